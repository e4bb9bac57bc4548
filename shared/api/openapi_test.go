package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/routes"
)

var (
	schemaOnce sync.Once
	compiler   *jsonschema.Compiler
	schemas    sync.Map
	docErr     error
)

func compiled(t *testing.T, doc []byte, loc string) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			docErr = err
			return
		}
		compiler = jsonschema.NewCompiler()
		compiler.DefaultDraft(jsonschema.Draft2020)
		docErr = compiler.AddResource("https://batchplane.local/openapi.json", v)
	})
	if docErr != nil {
		t.Fatalf("openapi document: %v", docErr)
	}
	if s, ok := schemas.Load(loc); ok {
		return s.(*jsonschema.Schema)
	}
	s, err := compiler.Compile("https://batchplane.local/openapi.json#" + loc)
	if err != nil {
		t.Fatalf("compile %s: %v", loc, err)
	}
	schemas.Store(loc, s)
	return s
}

func pointer(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(strings.NewReplacer("~", "~0", "/", "~1").Replace(p)))
	}
	return b.String()
}

// validateResponse checks a response against the served OpenAPI document:
// the route's success schema for its documented status, the Error schema
// for any other.
func validateResponse(t *testing.T, req *http.Request, r resp) {
	t.Helper()
	srv := currentServer(req)
	if srv == nil {
		return
	}
	name, ok := srv.RouteOf(req)
	if !ok || strings.HasPrefix(req.URL.Path, "/local/") {
		return
	}
	var loc string
	status, _ := api.ResponseSchema(name)
	if r.Status == status {
		var route routes.Route
		for _, rt := range routes.All {
			if rt.Name == name {
				route = rt
			}
		}
		loc = pointer("paths", route.Path, strings.ToLower(route.Method), "responses", fmt.Sprint(status), "content", "application/json", "schema")
	} else {
		if r.Status < 400 {
			t.Errorf("%s %s: status %d is not the documented %d", req.Method, req.URL.Path, r.Status, status)
			return
		}
		loc = pointer("components", "schemas", "Error")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Raw))
	if err != nil {
		t.Errorf("%s %s: body is not JSON: %v", req.Method, req.URL.Path, err)
		return
	}
	if err := compiled(t, srv.OpenAPIDocument(), loc).Validate(v); err != nil {
		t.Errorf("%s %s (%d) does not match the OpenAPI document: %v\n%s", req.Method, req.URL.Path, r.Status, err, r.Raw)
	}
}

var servers sync.Map // host → *api.Server

func currentServer(req *http.Request) *api.Server {
	s, _ := servers.Load(req.URL.Host)
	srv, _ := s.(*api.Server)
	return srv
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/openapi.json", &e.admin, nil).want(t, 200)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %v %q", err, doc.OpenAPI)
	}
	for _, rt := range routes.Deployed() {
		for _, p := range rt.Paths() {
			if _, ok := doc.Paths[p][strings.ToLower(rt.Method)]; !ok {
				t.Errorf("%s %s is not described", rt.Method, p)
			}
		}
	}
}
