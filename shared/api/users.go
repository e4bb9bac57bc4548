package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

// userJSON is a user as seed 001 shows it.
type userJSON struct {
	UserName string
	FullName string
	Role     string
	Id       int64 //nolint:revive // documented field name
}

func userOut(u identity.User) userJSON {
	return userJSON{UserName: u.UserName, FullName: u.FullName, Role: u.Role, Id: u.ID}
}

type userInput struct {
	UserName *string
	FullName *string
	Role     *string
	// Id is accepted on update (the seed lists it) and must match the path.
	Id *int64 //nolint:revive // documented field name
}

func userID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(Param(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("User %q not found.", Param(r, "id"))
	}
	return id, nil
}

// handleUsersList handles "GET /api/users".
func (s *Server) handleUsersList(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Identity.Users(r.Context(), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]userJSON, len(list))
	for i, u := range list {
		out[i] = userOut(u)
	}
	writeData(w, r, http.StatusOK, out, next)
}

// handleUserGet handles "GET /api/users/{id}".
func (s *Server) handleUserGet(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	u, err := s.deps.Identity.User(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, userOut(u), "")
}

// handleUserAdd handles "POST /api/users". The seed answers only
// `Data: true`; the new user's URL is in the Location header.
func (s *Server) handleUserAdd(w http.ResponseWriter, r *http.Request) {
	var in userInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if in.Id != nil {
		writeError(w, r, errs.Field("Id", "Id is assigned by the server."))
		return
	}
	u, err := s.deps.Identity.CreateUser(r.Context(), identity.UserInput{UserName: in.UserName, FullName: in.FullName, Role: in.Role})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/users/%d", u.ID))
	writeData(w, r, http.StatusCreated, true, "")
}

// handleUserUpdate handles "PUT /api/users/{id}".
func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in userInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if in.Id != nil && *in.Id != id {
		writeError(w, r, errs.Field("Id", "Id must match the user in the path."))
		return
	}
	if _, err := s.deps.Identity.UpdateUser(r.Context(), id, identity.UserInput{UserName: in.UserName, FullName: in.FullName, Role: in.Role}); err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, true, "")
}

// handleUserTeams handles "GET /api/v2/Users/Teams": the caller's teams.
func (s *Server) handleUserTeams(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Identity.MyTeams(r.Context(), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeNamed(w, r, http.StatusOK, "Teams", teamsOut(list), true, next)
}
