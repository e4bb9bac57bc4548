package api

import (
	"fmt"
	"net/http"

	"github.com/batchplane/batchplane/shared/identity"
)

// teamsRoutes binds the routes of the teams function.
func (s *Server) teamsRoutes() []endpoint {
	return []endpoint{
		op("teams.list", http.StatusOK, named("Teams"), s.handleTeamsList),
		op("teams.get", http.StatusOK, named("Team"), s.handleTeamGet),
		op("teams.add", http.StatusCreated, named("Success"), s.handleTeamAdd),
		op("teams.update", http.StatusOK, named("Success"), s.handleTeamUpdate),
		op("teams.delete", http.StatusOK, named("Success"), s.handleTeamDelete),
		op("teams.users", http.StatusOK, named("Users"), s.handleTeamUsers),
		op("teams.addUsers", http.StatusOK, named("Success"), s.handleTeamAddUsers),
		op("teams.removeUser", http.StatusOK, named("Success"), s.handleTeamRemoveUser),
	}
}

// teamJSON is a team as seed 001 shows it.
type teamJSON struct {
	ID          string `json:"Id" pattern:"^Z-[0-9A-F]{8}$"`
	IsDefault   bool
	Description *string
	Name        string
}

func teamOut(t identity.Team) teamJSON {
	return teamJSON{ID: t.ID, IsDefault: t.IsDefault, Description: t.Description, Name: t.Name}
}

// teamInput is the body of update.
type teamInput struct {
	Name        *string
	Description *string `nullable:"true"`
	// ID is accepted on update (the seed lists it) and must match the path.
	ID *string `json:"Id"`
}

// teamAddInput is the body of add. Id is read only to answer that the
// server assigns it, so the schema leaves it out.
type teamAddInput struct {
	Name        *string
	Description *string `nullable:"true"`
	ID          *string `json:"Id" openapi:"-"`
}

func (teamAddInput) requiredFields() []string { return []string{"Name"} }

// teamMemberJSON is a member as GET /api/v2/Teams/{id}/Users shows it.
type teamMemberJSON struct {
	UserName    string
	Email       string
	DisplayName string
}

// handleTeamsList handles "GET /api/v2/Teams".
func (s *Server) handleTeamsList(r *http.Request, _ *noBody) (*list[[]teamJSON], error) {
	pg, err := page(r)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.deps.Identity.Teams(r.Context(), pg)
	if err != nil {
		return nil, err
	}
	out := make([]teamJSON, len(ts))
	for i, x := range ts {
		out[i] = teamOut(x)
	}
	return &list[[]teamJSON]{items: out, next: next}, nil
}

// handleTeamGet handles "GET /api/v2/Teams/{id}" ({id} may be a team name).
func (s *Server) handleTeamGet(r *http.Request, _ *noBody) (*teamJSON, error) {
	t, err := s.deps.Identity.Team(r.Context(), Param(r, "id"))
	if err != nil {
		return nil, err
	}
	out := teamOut(t)
	return &out, nil
}

// handleTeamAdd handles "POST /api/v2/Teams".
func (s *Server) handleTeamAdd(r *http.Request, in *teamAddInput) (bool, error) {
	if in.ID != nil {
		return false, errFieldAssigned("Id")
	}
	t, err := s.deps.Identity.CreateTeam(r.Context(), identity.TeamInput{Name: in.Name, Description: in.Description})
	if err != nil {
		return false, err
	}
	setLocation(r, "/api/v2/Teams/"+t.ID)
	return true, nil
}

// handleTeamUpdate handles "PUT /api/v2/Teams/{id}".
func (s *Server) handleTeamUpdate(r *http.Request, in *teamInput) (bool, error) {
	if _, err := s.deps.Identity.UpdateTeam(r.Context(), Param(r, "id"), identity.TeamInput{Name: in.Name, Description: in.Description}); err != nil {
		return false, err
	}
	return true, nil
}

// handleTeamDelete handles "DELETE /api/v2/Teams/{id}".
func (s *Server) handleTeamDelete(r *http.Request, _ *noBody) (bool, error) {
	if err := s.deps.Identity.DeleteTeam(r.Context(), Param(r, "id")); err != nil {
		return false, err
	}
	return true, nil
}

// handleTeamUsers handles "GET /api/v2/Teams/{id}/Users".
func (s *Server) handleTeamUsers(r *http.Request, _ *noBody) (*list[[]teamMemberJSON], error) {
	pg, err := page(r)
	if err != nil {
		return nil, err
	}
	us, next, err := s.deps.Identity.TeamUsers(r.Context(), Param(r, "id"), pg)
	if err != nil {
		return nil, err
	}
	out := make([]teamMemberJSON, len(us))
	for i, x := range us {
		out[i] = teamMemberJSON{UserName: x.UserName, Email: x.UserName, DisplayName: x.FullName}
	}
	return &list[[]teamMemberJSON]{items: out, next: next}, nil
}

// teamUsersInput is the body of "POST /api/v2/Teams/{id}/Users": the seed
// names one parameter, UserName; a list is accepted too.
type teamUsersInput struct {
	UserName  *string
	UserNames []string
}

// handleTeamAddUsers handles "POST /api/v2/Teams/{id}/Users".
func (s *Server) handleTeamAddUsers(r *http.Request, in *teamUsersInput) (bool, error) {
	names := in.UserNames
	if in.UserName != nil {
		names = append([]string{*in.UserName}, names...)
	}
	if err := s.deps.Identity.AddTeamUsers(r.Context(), Param(r, "id"), names); err != nil {
		return false, err
	}
	return true, nil
}

// handleTeamRemoveUser handles "DELETE /api/v2/Teams/{id}/Users/{userName}".
func (s *Server) handleTeamRemoveUser(r *http.Request, _ *noBody) (bool, error) {
	if err := s.deps.Identity.RemoveTeamUser(r.Context(), Param(r, "id"), Param(r, "userName")); err != nil {
		return false, err
	}
	return true, nil
}

func errFieldAssigned(f string) error {
	return fieldErr(f, fmt.Sprintf("%s is assigned by the server.", f))
}
