package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/local"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

// env is a whole service over a fresh DynamoDB Local table, served by
// httptest, with the bootstrap Administrator's key.
type env struct {
	t      *testing.T
	svc    *app.Service
	srv    *httptest.Server
	admin  identity.NewKey
	sealer identity.Sealer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.Client(t)
	table := storetest.NewTable(t, db)
	sealer, err := secrets.NewAESGCM(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.Build(context.Background(), app.Config{DB: db, Table: table, Region: app.LocalRegion, Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, svc, sealer)
}

// newLocalEnv is newEnv on the local runtime (shared/local): the local
// cloud, and the real state machine definition under the local runner,
// for the cases that need runs.
func newLocalEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.Client(t)
	table := storetest.NewTable(t, db)
	root, err := storetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := secrets.NewAESGCM(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := local.Wire(context.Background(), local.WireOptions{DB: db, Table: table, Sealer: sealer, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close) // after the server's Close, registered later
	return serve(t, rt.Service, sealer)
}

// serve bootstraps the Administrator of svc and serves its API.
func serve(t *testing.T, svc *app.Service, sealer identity.Sealer) *env {
	t.Helper()
	nk, created, err := svc.Identity.Bootstrap(context.Background(), "admin@example.com")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v", err)
	}
	srv := httptest.NewServer(svc.API)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	servers.Store(u.Host, svc.API)
	e := &env{t: t, svc: svc, srv: srv, admin: nk, sealer: sealer}
	watchSecrets(t, e) // the whole-table secret scan, when t ends: secretscan_test.go
	return e
}

// resp is a decoded response.
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// do sends a request with the given key (nil: no Authorization header).
func (e *env) do(method, path string, key *identity.NewKey, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != nil {
		req.Header.Set("Authorization", "ApiKey "+key.AccessKey+":"+key.SecretKey)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", req.Method, req.URL, raw, err)
		}
	}
	validateResponse(e.t, req, r)
	return r
}

// want fails unless the response has the status.
func (r resp) want(t *testing.T, status int) resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if status >= 500 {
		t.Fatalf("5xx: %s", r.Raw)
	}
	return r
}

func (r resp) data() any { return r.Body["Data"] }

func (r resp) errors() map[string]any {
	m, _ := r.Body["Errors"].(map[string]any)
	return m
}

// newUser creates a user with a key and returns the key.
func (e *env) newUser(name, role string) identity.NewKey {
	e.t.Helper()
	e.do("POST", "/api/users", &e.admin, map[string]any{"UserName": name, "FullName": name, "Role": role}).want(e.t, 201)
	u, err := e.svc.Store.GetUserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	admin := identity.WithPrincipal(context.Background(), identity.Principal{User: identity.User{ID: 1, Role: identity.RoleAdministrator}})
	k, err := e.svc.Identity.CreateKey(admin, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}
