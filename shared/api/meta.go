package api

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3.1 description of every shipped route.
//
//go:embed openapi.json
var OpenAPI []byte

// handleHealth handles "GET /health", the one route without auth.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeData(w, r, http.StatusOK, map[string]string{"Status": "ok"}, "")
}

// handleOpenAPI handles "GET /api/openapi.json".
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(OpenAPI)
}
