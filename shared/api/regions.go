package api

import (
	"net/http"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/regions"
	"github.com/batchplane/batchplane/shared/routes"
)

// Regions is the regions function's binding: functions/regions serves it (app.HTTP(api.Regions())),
// so that binary links these handlers and no other function's.
func Regions() Binding { return Binding{routes.FnRegions, (*Server).regionsRoutes} }

// regionsRoutes binds the routes of the regions function.
func (s *Server) regionsRoutes() []endpoint {
	return []endpoint{
		op("regions.list", http.StatusOK, data, s.handleRegions),
	}
}

type regionJSON struct {
	ID   string `json:"Id"`
	Name string
}

func fieldErr(f, msg string) error { return errs.Field(f, msg) }

// handleRegions handles "GET /api/caches/regions?platform=" (and the
// documented "/api/api/caches/regions").
func (s *Server) handleRegions(r *http.Request, _ *noBody) (*[]regionJSON, error) {
	platform := queryGet(r.URL.Query(), "platform")
	rs, ok := regions.List(platform)
	if !ok {
		return nil, fieldErr("platform", "Unknown platform; use AmazonWebServices.")
	}
	out := make([]regionJSON, len(rs))
	for i, rg := range rs {
		out[i] = regionJSON{ID: rg.ID, Name: rg.Name}
	}
	return &out, nil
}
