// Package api is batchplane's HTTP surface: the router built from the route
// table in shared/routes, middleware (request id, limits, auth), the
// documented envelopes and one file of handlers per resource. It knows the
// domain services, never DynamoDB.
package api

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/routes"
)

// route is a compiled routes.Route.
type route struct {
	routes.Route
	segs    []string // lower-cased literals; "" marks a {param}
	params  []string // param names by segment index ("" for literals)
	handler http.HandlerFunc
	literal int // number of literal segments, to prefer /Users/Teams over /users/{id}
}

// Router dispatches requests by the route table, matching path literals
// case-insensitively and keeping ids as given.
type Router struct {
	routes []route
}

// newRouter compiles the table; every route must have a handler, and every
// handler must have a route, so the table, the router and (by the drift
// test) CDK and template.yaml cannot disagree.
func newRouter(table []routes.Route, handlers map[string]http.HandlerFunc) (*Router, error) {
	rt := &Router{}
	for _, r := range table {
		h, ok := handlers[r.Name]
		if !ok {
			h = notImplemented
		}
		for _, p := range r.Paths() {
			c := route{Route: r, handler: h}
			for _, s := range strings.Split(strings.Trim(p, "/"), "/") {
				if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
					c.segs = append(c.segs, "")
					c.params = append(c.params, s[1:len(s)-1])
				} else {
					c.segs = append(c.segs, strings.ToLower(s))
					c.params = append(c.params, "")
					c.literal++
				}
			}
			rt.routes = append(rt.routes, c)
		}
	}
	known := map[string]bool{}
	for _, r := range routes.All {
		known[r.Name] = true
	}
	for name := range handlers {
		if !known[name] {
			return nil, fmt.Errorf("api: handler %s has no route", name)
		}
	}
	sort.SliceStable(rt.routes, func(i, j int) bool { return rt.routes[i].literal > rt.routes[j].literal })
	return rt, nil
}

// Param returns a path parameter of the matched route, percent-decoded.
func Param(r *http.Request, name string) string {
	return stateOf(r.Context()).params[name]
}

// match finds the route for method and path. It returns the route and its
// parameters, or whether some route had the path (for 405).
func (rt *Router) match(method, escapedPath string) (*route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	for i, s := range segs {
		if strings.IndexByte(s, '%') < 0 {
			continue
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil, false
		}
		segs[i] = u
	}
	pathSeen := false
	for i := range rt.routes {
		c := &rt.routes[i]
		if len(c.segs) != len(segs) {
			continue
		}
		ok := true
		for j, s := range c.segs {
			if s == "" {
				if segs[j] == "" {
					ok = false
					break
				}
				continue
			}
			if !strings.EqualFold(s, segs[j]) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathSeen = true
		if c.Method != method {
			continue
		}
		var params map[string]string // nil when the route has none
		for j, p := range c.params {
			if p != "" {
				if params == nil {
					params = make(map[string]string, 2)
				}
				params[p] = segs[j]
			}
		}
		return c, params, true
	}
	return nil, nil, pathSeen
}

// lookup matches r and records the route and its parameters in the
// request's state (see ServeHTTP): 404 for an unknown path, 405 for a known
// path with another method.
func (rt *Router) lookup(r *http.Request) (*route, error) {
	c, params, pathSeen := rt.match(r.Method, r.URL.EscapedPath())
	if c == nil {
		if pathSeen {
			return nil, errs.E(errs.MethodNotAllowed, "Method %s is not allowed on %s.", r.Method, r.URL.Path)
		}
		return nil, errs.E(errs.NotFound, "No route for %s %s.", r.Method, r.URL.Path)
	}
	for name, v := range params {
		if len(v) > MaxParamBytes {
			return nil, errs.Field(name, fmt.Sprintf("%s must be at most %d bytes.", name, MaxParamBytes))
		}
	}
	if st := stateOf(r.Context()); st != &noState {
		st.params = params
	}
	return c, nil
}

// notImplemented answers routes of the table whose handler has not landed
// yet; TestEveryRouteHasAHandler fails while any route uses it.
func notImplemented(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, errs.E(errs.NotFound, "%s %s is not implemented yet.", r.Method, r.URL.Path))
}
