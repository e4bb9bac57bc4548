package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/routes"
)

// TestEveryRouteIsBoundOnce checks the binding side of the route table:
// each route has exactly one typed handler, declared in the file of its
// Lambda function (functions()[route.Function]), and no binding names a
// route the table lacks.
func TestEveryRouteIsBoundOnce(t *testing.T) {
	byName := map[string]routes.Route{}
	for _, r := range routes.All {
		byName[r.Name] = r
	}
	bound := map[string]string{}
	for fn, eps := range testServer().functions() {
		for _, e := range eps {
			r, ok := byName[e.name]
			switch {
			case !ok:
				t.Errorf("%s binds %s, which shared/routes does not have", fn, e.name)
			case r.Function != fn:
				t.Errorf("route %s is served by %s but bound with %s's routes", e.name, r.Function, fn)
			case bound[e.name] != "":
				t.Errorf("route %s is bound twice", e.name)
			}
			bound[e.name] = fn
			switch e.resp.Kind() {
			case reflect.Pointer, reflect.Bool, reflect.String:
			default:
				if e.resp != reflect.TypeFor[document]() {
					t.Errorf("route %s returns %s: return a pointer to it (see op)", e.name, e.resp)
				}
			}
		}
	}
	for _, r := range routes.All {
		if bound[r.Name] == "" {
			t.Errorf("route %s (%s %s) has no handler", r.Name, r.Method, r.Path)
		}
	}
}

// TestEveryRouteHasSchemas fails when a route lacks its response schema,
// or (for POST and PUT) its request schema, or a summary, tag, error
// responses, or when an enum is not typed.
func TestEveryRouteHasSchemas(t *testing.T) {
	b, err := buildOpenAPI(routes.All, testServer().endpoints())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Summary     string           `json:"summary"`
			Tags        []string         `json:"tags"`
			RequestBody *json.RawMessage `json:"requestBody"`
			Responses   map[string]any   `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.All {
		for _, p := range r.Paths() {
			op, ok := doc.Paths[p][strings.ToLower(r.Method)]
			if !ok {
				t.Errorf("%s %s is not described", r.Method, p)
				continue
			}
			if op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s: summary %q, tags %v", r.Method, p, op.Summary, op.Tags)
			}
			body := r.Method == http.MethodPost || r.Method == http.MethodPut
			if body != (op.RequestBody != nil) {
				t.Errorf("%s %s: request schema present = %v", r.Method, p, op.RequestBody != nil)
			}
			var success, clientErr bool
			for code := range op.Responses {
				success = success || strings.HasPrefix(code, "2")
				clientErr = clientErr || strings.HasPrefix(code, "4")
			}
			if !success || !clientErr {
				t.Errorf("%s %s: responses %v lack a 2xx or a 4xx", r.Method, p, op.Responses)
			}
		}
	}
	var all any
	_ = json.Unmarshal(b, &all)
	walk(all, func(o map[string]any) {
		if _, ok := o["enum"]; !ok {
			return
		}
		switch typ := o["type"].(type) {
		case string:
			if typ == "string" {
				return
			}
		case []any:
			if len(typ) > 0 && typ[0] == "string" {
				return
			}
		}
		t.Errorf("enum without a string type: %v", o)
	})
}

func walk(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		f(v)
		for _, x := range v {
			walk(x, f)
		}
	case []any:
		for _, x := range v {
			walk(x, f)
		}
	}
}

// TestOpenAPIRefusesUndescribedRoutes: the document cannot be built for a
// route without a binding, or whose types have no JSON Schema.
func TestOpenAPIRefusesUndescribedRoutes(t *testing.T) {
	r := routes.Route{Name: "x.add", Method: "POST", Path: "/api/x", Function: "x", Summary: "Add an x"}
	tests := []struct {
		name string
		eps  []endpoint
	}{
		{"no binding", nil},
		{"request without a schema", []endpoint{op("x.add", http.StatusCreated, data,
			func(*http.Request, *struct{ C chan int }) (bool, error) { return true, nil })}},
		{"response without a schema", []endpoint{op("x.add", http.StatusCreated, data,
			func(*http.Request, *emptyBody) (func(), error) { return nil, nil })}},
		{"required member missing", []endpoint{op("x.add", http.StatusCreated, data,
			func(*http.Request, *badRequired) (bool, error) { return true, nil })}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := buildOpenAPI([]routes.Route{r}, tt.eps); err == nil {
				t.Error("the document was built")
			}
		})
	}
	noSummary := r
	noSummary.Summary = ""
	ok := []endpoint{op("x.add", http.StatusCreated, data, func(*http.Request, *emptyBody) (bool, error) { return true, nil })}
	if _, err := buildOpenAPI([]routes.Route{r}, ok); err != nil {
		t.Fatalf("a described route: %v", err)
	}
	if _, err := buildOpenAPI([]routes.Route{noSummary}, ok); err == nil {
		t.Error("a route without a summary was described")
	}
}

type badRequired struct {
	Name *string `json:"Name"`
}

func (badRequired) requiredFields() []string { return []string{"Nome"} }
