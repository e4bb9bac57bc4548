package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/routes"
)

// TestEveryRouteHasAHandler is the router's side of the route drift check
// (infra's TestRouteDrift compares the table with CDK and template.yaml):
// every route of the table has a handler and every handler a route.
func TestEveryRouteHasAHandler(t *testing.T) {
	h := testServer().handlers()
	for _, r := range routes.All {
		if _, ok := h[r.Name]; !ok {
			t.Errorf("route %s (%s %s) has no handler", r.Name, r.Method, r.Path)
		}
	}
	if _, err := newRouter(routes.All, h); err != nil {
		t.Fatal(err)
	}
	if _, err := newRouter(routes.All, map[string]http.HandlerFunc{"nope": nil}); err == nil {
		t.Error("a handler without a route was accepted")
	}
}

func TestRouterMatching(t *testing.T) {
	rt, err := newRouter(routes.All, testServer().handlers())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, want string
		params             map[string]string
	}{
		{"GET", "/api/accounts", "accounts.list", nil},
		{"GET", "/API/Accounts/", "accounts.list", nil},
		{"GET", "/api/Accounts/A-7EADA1C0", "accounts.get", map[string]string{"id": "A-7EADA1C0"}},
		{"POST", "/api/accounts/cloudfrontaws", "accounts.add", nil},
		{"GET", "/api/v2/Users/Teams", "users.teams", nil},
		{"GET", "/api/users/89", "users.get", map[string]string{"id": "89"}},
		{"GET", "/api/v2/Teams/Test%20Teams/Users", "teams.users", map[string]string{"id": "Test Teams"}},
		{"GET", "/api/api/caches/regions", "regions.list", nil},
		{"GET", "/api/runs/Check/abc", "runs.check", map[string]string{"id": "abc"}},
		{"PUT", "/api/runs/R-1", "runs.stop", nil},
		{"GET", "/api/Runs/R-1", "runs.get", nil},
		{"GET", "/api/runs/R-1/Instances", "runs.instances", nil},
		{"POST", "/api/v2/apps/AutoScalingGroup/Add", "asg.add", nil},
		{"GET", "/api/api/v2/apps/AutoScalingGroup/W-1", "asg.get", nil},
		{"POST", "/api/v2/apps/Ami/W-1/execute", "ami.execute", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			c, params, _ := rt.match(tt.method, tt.path)
			if c == nil || c.Name != tt.want {
				t.Fatalf("matched %v, want %s", c, tt.want)
			}
			for k, v := range tt.params {
				if params[k] != v {
					t.Errorf("param %s = %q, want %q", k, params[k], v)
				}
			}
		})
	}
}

// TestNewServesItsBinding: a server routes exactly its binding's routes
// (a function's, or every deployed route for All), and refuses none.
func TestNewServesItsBinding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		routes  Binding
		wantErr bool
		serves  func(routes.Route) bool
	}{
		{name: "no binding", wantErr: true},
		{name: "projects", routes: Projects(), serves: func(r routes.Route) bool { return r.Function == routes.FnProjects }},
		{name: "all", routes: All(), serves: func(r routes.Route) bool { return !r.LocalOnly }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Deps{Routes: tc.routes})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			for _, r := range routes.All {
				req, _ := http.NewRequest(r.Method, strings.ReplaceAll(r.Path, "{id}", "x"), nil)
				name, ok := s.RouteOf(req)
				if got := ok && name == r.Name; got != tc.serves(r) {
					t.Errorf("%s serves %s %s: %v (%s), want %v", tc.name, r.Method, r.Path, got, name, tc.serves(r))
				}
			}
		})
	}
}
