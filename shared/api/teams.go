package api

import (
	"fmt"
	"net/http"

	"github.com/batchplane/batchplane/shared/identity"
)

// teamJSON is a team as seed 001 shows it.
type teamJSON struct {
	Id          string //nolint:revive // documented field name
	IsDefault   bool
	Description *string
	Name        string
}

func teamOut(t identity.Team) teamJSON {
	return teamJSON{Id: t.ID, IsDefault: t.IsDefault, Description: t.Description, Name: t.Name}
}

func teamsOut(ts []identity.Team) []teamJSON {
	out := make([]teamJSON, len(ts))
	for i, t := range ts {
		out[i] = teamOut(t)
	}
	return out
}

type teamInput struct {
	Name        *string
	Description *string
	// Id is accepted on update (the seed lists it) and must match the path.
	Id *string //nolint:revive // documented field name
}

// teamMemberJSON is a member as GET /api/v2/Teams/{id}/Users shows it.
type teamMemberJSON struct {
	UserName    string
	Email       string
	DisplayName string
}

// handleTeamsList handles "GET /api/v2/Teams".
func (s *Server) handleTeamsList(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Identity.Teams(r.Context(), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeNamed(w, r, http.StatusOK, "Teams", teamsOut(list), true, next)
}

// handleTeamGet handles "GET /api/v2/Teams/{id}" ({id} may be a team name).
func (s *Server) handleTeamGet(w http.ResponseWriter, r *http.Request) {
	t, err := s.deps.Identity.Team(r.Context(), Param(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeNamed(w, r, http.StatusOK, "Team", teamOut(t), false, "")
}

// handleTeamAdd handles "POST /api/v2/Teams".
func (s *Server) handleTeamAdd(w http.ResponseWriter, r *http.Request) {
	var in teamInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if in.Id != nil {
		writeError(w, r, errFieldAssigned("Id"))
		return
	}
	t, err := s.deps.Identity.CreateTeam(r.Context(), identity.TeamInput{Name: in.Name, Description: in.Description})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v2/Teams/"+t.ID)
	writeNamed(w, r, http.StatusCreated, "Success", true, false, "")
}

// handleTeamUpdate handles "PUT /api/v2/Teams/{id}".
func (s *Server) handleTeamUpdate(w http.ResponseWriter, r *http.Request) {
	var in teamInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.deps.Identity.UpdateTeam(r.Context(), Param(r, "id"), identity.TeamInput{Name: in.Name, Description: in.Description}); err != nil {
		writeError(w, r, err)
		return
	}
	writeNamed(w, r, http.StatusOK, "Success", true, false, "")
}

// handleTeamDelete handles "DELETE /api/v2/Teams/{id}".
func (s *Server) handleTeamDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Identity.DeleteTeam(r.Context(), Param(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	writeNamed(w, r, http.StatusOK, "Success", true, false, "")
}

// handleTeamUsers handles "GET /api/v2/Teams/{id}/Users".
func (s *Server) handleTeamUsers(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Identity.TeamUsers(r.Context(), Param(r, "id"), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]teamMemberJSON, len(list))
	for i, u := range list {
		out[i] = teamMemberJSON{UserName: u.UserName, Email: u.UserName, DisplayName: u.FullName}
	}
	writeNamed(w, r, http.StatusOK, "Users", out, true, next)
}

// teamUsersInput is the body of "POST /api/v2/Teams/{id}/Users": the seed
// names one parameter, UserName; a list is accepted too.
type teamUsersInput struct {
	UserName  *string
	UserNames []string
}

// handleTeamAddUsers handles "POST /api/v2/Teams/{id}/Users".
func (s *Server) handleTeamAddUsers(w http.ResponseWriter, r *http.Request) {
	var in teamUsersInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	names := in.UserNames
	if in.UserName != nil {
		names = append([]string{*in.UserName}, names...)
	}
	if err := s.deps.Identity.AddTeamUsers(r.Context(), Param(r, "id"), names); err != nil {
		writeError(w, r, err)
		return
	}
	writeNamed(w, r, http.StatusOK, "Success", true, false, "")
}

func errFieldAssigned(f string) error {
	return fieldErr(f, fmt.Sprintf("%s is assigned by the server.", f))
}
