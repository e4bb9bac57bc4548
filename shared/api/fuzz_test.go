package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/routes"
)

// FuzzDecode feeds arbitrary bodies and content types to the JSON decoder
// of every write shape: it must never panic and must answer an error with
// a 4xx code or nil.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"Name":"x"}`, `{"Name":5}`, `{"Teams":["a",1]}`, `[]`, `{"Name":"a"}{}`, `{"x":1}`, "", "{", `{"UserId":-1}`, `"str"`, `{"Name":"\u0000"}`} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{}`), "text/plain")
	f.Fuzz(func(t *testing.T, b []byte, ct string) {
		r := httptest.NewRequest("POST", "/api/v2/Teams", nil)
		r.Header.Set("Content-Type", ct)
		r = r.WithContext(withState(r.Context(), &reqState{body: b}))
		for _, v := range []any{&accountInput{}, &teamInput{}, &userInput{}, &teamUsersInput{}, &keyInput{}} {
			err := decode(r, v)
			if err == nil {
				continue
			}
			if status := statusOf[errs.CodeOf(err)]; status < 400 || status >= 500 {
				t.Fatalf("decode(%q, %q) = %v: status %d", b, ct, err, status)
			}
		}
	})
}

// FuzzRouter matches arbitrary methods, paths and queries: no panic, and
// every miss is a 404 or 405.
func FuzzRouter(f *testing.F) {
	rt, err := newRouter(routes.All, map[string]http.HandlerFunc{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"/api/accounts", "/API/Accounts/A-1", "/api/v2/Teams/Test%20Teams/Users", "/%zz", "//", "/api/runs/Check/", "/api/caches/regions?platform=1&PageSize=x"} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, target string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		r, err := http.NewRequest("GET", "http://x"+target, nil)
		if err != nil {
			return
		}
		r.Method = method
		_, err = rt.lookup(r)
		if err != nil {
			if c := errs.CodeOf(err); c != errs.NotFound && c != errs.MethodNotAllowed {
				t.Fatalf("lookup %s %s: %v", method, target, err)
			}
		}
		if _, err := page(r); err != nil && errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("page: %v", err)
		}
	})
}
