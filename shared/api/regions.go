package api

import (
	"net/http"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/regions"
)

type regionJSON struct {
	Id   string //nolint:revive // documented field name
	Name string
}

func fieldErr(f, msg string) error { return errs.Field(f, msg) }

// handleRegions handles "GET /api/caches/regions?platform=" (and the
// documented "/api/api/caches/regions").
func (s *Server) handleRegions(w http.ResponseWriter, r *http.Request) {
	platform := queryGet(r.URL.Query(), "platform")
	list, ok := regions.List(platform)
	if !ok {
		writeError(w, r, fieldErr("platform", "Unknown platform; use AmazonWebServices."))
		return
	}
	out := make([]regionJSON, len(list))
	for i, rg := range list {
		out[i] = regionJSON{Id: rg.ID, Name: rg.Name}
	}
	writeData(w, r, http.StatusOK, out, "")
}
