package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/routes"
)

// Users is the users function's binding: functions/users serves it (app.HTTP(api.Users())),
// so that binary links these handlers and no other function's.
func Users() Binding { return Binding{routes.FnUsers, (*Server).usersRoutes} }

// usersRoutes binds the routes of the users function.
func (s *Server) usersRoutes() []endpoint {
	return []endpoint{
		op("users.list", http.StatusOK, data, s.handleUsersList),
		op("users.get", http.StatusOK, data, s.handleUserGet),
		op("users.add", http.StatusCreated, data, s.handleUserAdd),
		op("users.update", http.StatusOK, data, s.handleUserUpdate),
		op("users.teams", http.StatusOK, named("Teams"), s.handleUserTeams),
	}
}

// userJSON is a user as seed 001 shows it.
type userJSON struct {
	UserName string
	FullName string
	Role     string `enum:"Administrator,User"`
	ID       int64  `json:"Id"`
}

func userOut(u identity.User) userJSON {
	return userJSON{UserName: u.UserName, FullName: u.FullName, Role: u.Role, ID: u.ID}
}

// userInput is the body of update.
type userInput struct {
	UserName *string
	FullName *string
	Role     *string `enum:"Administrator,User"`
	// ID is accepted on update (the seed lists it) and must match the path.
	ID *int64 `json:"Id"`
}

// userAddInput is the body of add. Id is read only to answer that the
// server assigns it, so the schema leaves it out.
type userAddInput struct {
	UserName *string
	FullName *string
	Role     *string `enum:"Administrator,User"`
	ID       *int64  `json:"Id" openapi:"-"`
}

func (userAddInput) requiredFields() []string { return []string{"UserName", "FullName", "Role"} }

func userID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(Param(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("User %q not found.", Param(r, "id"))
	}
	return id, nil
}

// handleUsersList handles "GET /api/users".
func (s *Server) handleUsersList(r *http.Request, _ *noBody) (*list[[]userJSON], error) {
	pg, err := page(r)
	if err != nil {
		return nil, err
	}
	us, next, err := s.deps.Identity.Users(r.Context(), pg)
	if err != nil {
		return nil, err
	}
	out := make([]userJSON, len(us))
	for i, x := range us {
		out[i] = userOut(x)
	}
	return &list[[]userJSON]{items: out, next: next}, nil
}

// handleUserGet handles "GET /api/users/{id}".
func (s *Server) handleUserGet(r *http.Request, _ *noBody) (*userJSON, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	u, err := s.deps.Identity.User(r.Context(), id)
	if err != nil {
		return nil, err
	}
	out := userOut(u)
	return &out, nil
}

// handleUserAdd handles "POST /api/users". The seed answers only
// `Data: true`; the new user's URL is in the Location header.
func (s *Server) handleUserAdd(r *http.Request, in *userAddInput) (bool, error) {
	if in.ID != nil {
		return false, errs.Field("Id", "Id is assigned by the server.")
	}
	u, err := s.deps.Identity.CreateUser(r.Context(), identity.UserInput{UserName: in.UserName, FullName: in.FullName, Role: in.Role})
	if err != nil {
		return false, err
	}
	setLocation(r, fmt.Sprintf("/api/users/%d", u.ID))
	return true, nil
}

// handleUserUpdate handles "PUT /api/users/{id}".
func (s *Server) handleUserUpdate(r *http.Request, in *userInput) (bool, error) {
	id, err := userID(r)
	if err != nil {
		return false, err
	}
	if in.ID != nil && *in.ID != id {
		return false, errs.Field("Id", "Id must match the user in the path.")
	}
	if _, err := s.deps.Identity.UpdateUser(r.Context(), id, identity.UserInput{UserName: in.UserName, FullName: in.FullName, Role: in.Role}); err != nil {
		return false, err
	}
	return true, nil
}

// handleUserTeams handles "GET /api/v2/Users/Teams": the caller's teams.
func (s *Server) handleUserTeams(r *http.Request, _ *noBody) (*list[[]teamJSON], error) {
	pg, err := page(r)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.deps.Identity.MyTeams(r.Context(), pg)
	if err != nil {
		return nil, err
	}
	out := make([]teamJSON, len(ts))
	for i, x := range ts {
		out[i] = teamOut(x)
	}
	return &list[[]teamJSON]{items: out, next: next}, nil
}
