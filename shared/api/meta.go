package api

import (
	"fmt"
	"net/http"

	"github.com/batchplane/batchplane/shared/routes"
)

// Meta is the meta function's binding: functions/meta serves it (app.HTTP(api.Meta())),
// so that binary links these handlers and no other function's.
func Meta() Binding { return Binding{routes.FnMeta, (*Server).metaRoutes} }

// metaRoutes binds the routes of the meta function.
func (s *Server) metaRoutes() []endpoint {
	return []endpoint{
		op("health", http.StatusOK, data, s.handleHealth),
		op("openapi", http.StatusOK, raw, s.handleOpenAPI),
	}
}

type healthJSON struct {
	Status string `enum:"ok"`
}

// handleHealth handles "GET /health", the one route without auth.
func (s *Server) handleHealth(*http.Request, *noBody) (*healthJSON, error) {
	return &healthJSON{Status: "ok"}, nil
}

// document is the OpenAPI document, served as it is.
type document []byte

func (document) openAPISchema() obj {
	return obj{"type": "object", "required": []string{"openapi", "paths"},
		"properties": obj{"openapi": str(), "paths": obj{"type": "object"}}}
}

// handleOpenAPI handles "GET /api/openapi.json".
func (s *Server) handleOpenAPI(*http.Request, *noBody) (document, error) {
	doc, err := openAPIDocument()
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return doc, nil
}
