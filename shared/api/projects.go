package api

import (
	"net/http"
	"time"

	"github.com/batchplane/batchplane/shared/projects"
)

func init() {
	register(func(s *Server) map[string]http.HandlerFunc {
		return map[string]http.HandlerFunc{
			"projects.list":   s.handleProjectsList,
			"projects.get":    s.handleProjectGet,
			"projects.add":    s.handleProjectAdd,
			"projects.update": s.handleProjectUpdate,
			"projects.delete": s.handleProjectDelete,
		}
	})
}

// projectJSON is a Batchly project (the seed shows no shape: PascalCase
// like the rest of /api).
type projectJSON struct {
	Id        string //nolint:revive // /api style
	Name      string
	AccountId string //nolint:revive // /api style
	Region    string
	VpcId     *string //nolint:revive // /api style
	CreatedAt time.Time
}

type projectInput struct {
	Name      *string
	AccountId *string //nolint:revive // /api style
	Region    *string
	VpcId     *string //nolint:revive // /api style
}

func (in projectInput) domain() projects.Input {
	return projects.Input{Name: in.Name, AccountID: in.AccountId, Region: in.Region, VpcID: in.VpcId}
}

func projectOut(p projects.Project) projectJSON {
	out := projectJSON{Id: p.ID, Name: p.Name, AccountId: p.AccountID, Region: p.Region, CreatedAt: p.CreatedAt}
	if p.VpcID != "" {
		out.VpcId = &p.VpcID
	}
	return out
}

// handleProjectsList handles "GET /api/Projects".
func (s *Server) handleProjectsList(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Projects.List(r.Context(), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]projectJSON, len(list))
	for i, p := range list {
		out[i] = projectOut(p)
	}
	writeData(w, r, http.StatusOK, out, next)
}

// handleProjectGet handles "GET /api/Projects/{id}".
func (s *Server) handleProjectGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.deps.Projects.Get(r.Context(), Param(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, projectOut(p), "")
}

// handleProjectAdd handles "POST /api/Projects/Add".
func (s *Server) handleProjectAdd(w http.ResponseWriter, r *http.Request) {
	var in projectInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.deps.Projects.Create(r.Context(), in.domain())
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/Projects/"+p.ID)
	writeData(w, r, http.StatusCreated, projectOut(p), "")
}

// handleProjectUpdate handles "PUT /api/Projects/{id}".
func (s *Server) handleProjectUpdate(w http.ResponseWriter, r *http.Request) {
	var in projectInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.deps.Projects.Update(r.Context(), Param(r, "id"), in.domain())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, projectOut(p), "")
}

// handleProjectDelete handles "DELETE /api/Projects/{id}".
func (s *Server) handleProjectDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Projects.Delete(r.Context(), Param(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, true, "")
}
