package api

import (
	"fmt"
	"net/http"
)

// handleHealth handles "GET /health", the one route without auth.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeData(w, r, http.StatusOK, map[string]string{"Status": "ok"}, "")
}

// handleOpenAPI handles "GET /api/openapi.json".
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := openAPIDocument()
	if err != nil {
		writeError(w, r, fmt.Errorf("openapi: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}
