package api

import (
	"net/http"

	"github.com/batchplane/batchplane/shared/routes"
)

// ResponseSchema returns the success status of a route (for the tests).
func ResponseSchema(route string) (int, bool) {
	for _, e := range testServer().endpoints() {
		if e.name == route {
			return e.status, true
		}
	}
	return 0, false
}

// RouteOf returns the name of the route that serves r, if any.
func (s *Server) RouteOf(r *http.Request) (string, bool) {
	c, _, _ := s.router.match(r.Method, r.URL.EscapedPath())
	if c == nil {
		return "", false
	}
	return c.Name, true
}

// OpenAPIDocument returns the served OpenAPI document.
func (s *Server) OpenAPIDocument() []byte {
	doc, _ := openAPIDocument()
	return doc
}

// Route returns the table's route named name.
func Route(name string) (routes.Route, bool) {
	for _, r := range routes.All {
		if r.Name == name {
			return r, true
		}
	}
	return routes.Route{}, false
}

// testServer has the bindings of every route, the local-only ones included
// (no handler runs).
func testServer() *Server { return &Server{deps: Deps{Local: NewLocalRoutes(nil)}} }

// ErrorComponent names the OpenAPI error schema of the surface of path.
func ErrorComponent(path string) string { return errorComponent(surfaceOf(path)) }
