package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/local"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

// Fixtures of the security suite that need more than newEnv: a run (the
// state machine must start it) and a user in another team only.

// newLocalEnv is newEnv on the local runtime (shared/local): the same
// service over a fresh table, with the local cloud and the real state
// machine definition run by the local runner, so executing a job starts a
// real run.
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
	t.Cleanup(rt.Close)
	nk, created, err := rt.Service.Identity.Bootstrap(context.Background(), "admin@example.com")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v", err)
	}
	srv := httptest.NewServer(rt.Service.API)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	servers.Store(u.Host, rt.Service.API)
	e := &env{t: t, svc: rt.Service, srv: srv, admin: nk, sealer: sealer}
	watchSecrets(t, e)
	return e
}

// startRun executes an Auto Scaling Group job as the Administrator and
// returns its run request and run ids.
func (e *env) startRun(t *testing.T, job string) (request, run string) {
	t.Helper()
	request = e.do("POST", "/api/v2/apps/AutoScalingGroup/"+job+"/execute", &e.admin, nil).want(t, 202).Body["RunRequestId"].(string)
	run = e.do("GET", "/api/runs/Check/"+request, &e.admin, nil).want(t, 200).data().(string)
	return request, run
}

// userOnlyIn creates a User who is in team only (taken out of the default
// team) and returns their id.
func (e *env) userOnlyIn(t *testing.T, name, team string) string {
	t.Helper()
	k := e.newUser(name, identity.RoleUser)
	e.do("POST", "/api/v2/Teams/"+team+"/Users", &e.admin, map[string]any{"UserName": name}).want(t, 200)
	e.do("DELETE", "/api/v2/Teams/"+identity.DefaultTeamName+"/Users/"+name, &e.admin, nil).want(t, 200)
	return fmt.Sprint(k.UserID)
}
