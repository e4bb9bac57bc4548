package api

import (
	"net/http"
	"time"

	"github.com/batchplane/batchplane/shared/projects"
	"github.com/batchplane/batchplane/shared/routes"
)

// Projects is the projects function's binding: functions/projects serves it (app.HTTP(api.Projects())),
// so that binary links these handlers and no other function's.
func Projects() Binding { return Binding{routes.FnProjects, (*Server).projectsRoutes} }

// projectsRoutes binds the routes of the projects function.
func (s *Server) projectsRoutes() []endpoint {
	return []endpoint{
		op("projects.list", http.StatusOK, data, s.handleProjectsList),
		op("projects.get", http.StatusOK, data, s.handleProjectGet),
		op("projects.add", http.StatusCreated, data, s.handleProjectAdd),
		op("projects.update", http.StatusOK, data, s.handleProjectUpdate),
		op("projects.delete", http.StatusOK, data, s.handleProjectDelete),
	}
}

// projectJSON is a Batchly project (the seed shows no shape: PascalCase
// like the rest of /api).
type projectJSON struct {
	ID        string `json:"Id" pattern:"^P-[0-9A-F]{8}$"`
	Name      string
	AccountID string `json:"AccountId"`
	Region    string
	VpcID     *string `json:"VpcId"`
	CreatedAt time.Time
}

// projectInput is the body of update.
type projectInput struct {
	Name      *string
	AccountID *string `json:"AccountId"`
	Region    *string
	VpcID     *string `json:"VpcId"`
}

// projectAddInput is the body of add.
type projectAddInput projectInput

func (projectAddInput) requiredFields() []string { return []string{"Name", "AccountId"} }

func (in projectInput) domain() projects.Input {
	return projects.Input{Name: in.Name, AccountID: in.AccountID, Region: in.Region, VpcID: in.VpcID}
}

func projectOut(p projects.Project) projectJSON {
	out := projectJSON{ID: p.ID, Name: p.Name, AccountID: p.AccountID, Region: p.Region, CreatedAt: p.CreatedAt}
	if p.VpcID != "" {
		out.VpcID = &p.VpcID
	}
	return out
}

// handleProjectsList handles "GET /api/Projects".
func (s *Server) handleProjectsList(r *http.Request, _ *noBody) (*list[[]projectJSON], error) {
	pg, err := page(r)
	if err != nil {
		return nil, err
	}
	ps, next, err := s.deps.Projects.List(r.Context(), pg)
	if err != nil {
		return nil, err
	}
	out := make([]projectJSON, len(ps))
	for i, x := range ps {
		out[i] = projectOut(x)
	}
	return &list[[]projectJSON]{items: out, next: next}, nil
}

// handleProjectGet handles "GET /api/Projects/{id}".
func (s *Server) handleProjectGet(r *http.Request, _ *noBody) (*projectJSON, error) {
	p, err := s.deps.Projects.Get(r.Context(), Param(r, "id"))
	if err != nil {
		return nil, err
	}
	out := projectOut(p)
	return &out, nil
}

// handleProjectAdd handles "POST /api/Projects/Add".
func (s *Server) handleProjectAdd(r *http.Request, in *projectAddInput) (*projectJSON, error) {
	p, err := s.deps.Projects.Create(r.Context(), projectInput(*in).domain())
	if err != nil {
		return nil, err
	}
	setLocation(r, "/api/Projects/"+p.ID)
	out := projectOut(p)
	return &out, nil
}

// handleProjectUpdate handles "PUT /api/Projects/{id}".
func (s *Server) handleProjectUpdate(r *http.Request, in *projectInput) (*projectJSON, error) {
	p, err := s.deps.Projects.Update(r.Context(), Param(r, "id"), in.domain())
	if err != nil {
		return nil, err
	}
	out := projectOut(p)
	return &out, nil
}

// handleProjectDelete handles "DELETE /api/Projects/{id}".
func (s *Server) handleProjectDelete(r *http.Request, _ *noBody) (bool, error) {
	if err := s.deps.Projects.Delete(r.Context(), Param(r, "id")); err != nil {
		return false, err
	}
	return true, nil
}
