package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/identity"
)

// TestKragleSchedules walks Kragle's /schedules through the router:
// create (config required, invalid configs a 400 saying what is wrong in
// Kragle's {"error": …}), get, pages of 10 with a total, PUT leaving
// absent members, once checked against the config, another user's
// schedule visible but not changeable, delete.
func TestKragleSchedules(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"name": "x"}, "config is required"},
		{map[string]any{"config": map[string]any{"period": 90}}, "config.period"},
		{map[string]any{"config": map[string]any{"expression": "cron(0 0 1 * MON *)"}}, "both set"},
		{map[string]any{"config": map[string]any{"period": 60, "timestamp": 1795179600}}, "period"},
		{map[string]any{"config": map[string]any{"bogus": 1}}, "unknown key"},
		{map[string]any{"config": "hourly"}, "JSON object"},
		{map[string]any{"config": map[string]any{"period": 60}, "once": true}, "once is true"},
		{map[string]any{"config": map[string]any{"timestamp": 1795179600}, "once": false}, "once is false"},
		{map[string]any{"config": map[string]any{"period": 60}, "name": strings.Repeat("n", 129)}, "name must be at most"},
	} {
		got := e.do("POST", "/schedules", a, tc.body)
		msg, _ := got.Body["error"].(string)
		if got.Status != 400 || !strings.Contains(msg, tc.want) || len(got.Body) != 1 {
			t.Errorf("POST %v: %d %s, want 400 {\"error\": …%s…}", tc.body, got.Status, got.Raw, tc.want)
		}
	}
	first := e.do("POST", "/schedules", a, map[string]any{"config": map[string]any{"period": 3600}, "name": "hourly"}).want(t, 200)
	id := int(first.Body["id"].(float64))
	if id < 1 {
		t.Fatalf("id %v", first.Body)
	}
	one := e.do("POST", "/schedules", a, map[string]any{"config": map[string]any{"timestamp": 1795179600}}).want(t, 200)
	got := e.do("GET", fmt.Sprintf("/schedules/byid/%v", one.Body["id"]), a, nil).want(t, 200)
	if got.Body["once"] != true || got.Body["name"] != nil || got.Body["config"].(map[string]any)["timestamp"].(float64) != 1795179600 {
		t.Errorf("one-time schedule: %s, want once true (from the config), name null", got.Raw)
	}
	for range 10 {
		e.do("POST", "/schedules", a, map[string]any{"config": map[string]any{"expression": "cron(0 18 ? * MON-FRI *)", "timezone": "Europe/Paris"}}).want(t, 200)
	}
	p1 := e.do("GET", "/schedules", a, nil).want(t, 200)
	p2 := e.do("GET", "/schedules?page=2", a, nil).want(t, 200)
	if p1.Body["count"].(float64) != 12 || p1.Body["pagesize"].(float64) != 10 || p1.Body["page"].(float64) != 1 ||
		len(p1.Body["schedules"].([]any)) != 10 || p2.Body["page"].(float64) != 2 || len(p2.Body["schedules"].([]any)) != 2 {
		t.Errorf("pages: %s / %s", p1.Raw, p2.Raw)
	}
	if s0 := p1.Body["schedules"].([]any)[0].(map[string]any); int(s0["id"].(float64)) != id || s0["name"] != "hourly" {
		t.Errorf("first of page 1: %v, want schedule %d", s0, id)
	}
	if got := e.do("GET", "/schedules?page=0", a, nil); got.Status != 400 || got.Body["error"] == nil {
		t.Errorf("page=0: %d %s", got.Status, got.Raw)
	}
	path := fmt.Sprintf("/schedules/%d", id)
	upd := e.do("PUT", path, a, map[string]any{"name": "every two hours", "config": map[string]any{"period": 7200}}).want(t, 200)
	if upd.Body["name"] != "every two hours" || upd.Body["config"].(map[string]any)["period"].(float64) != 7200 || upd.Body["once"] != false {
		t.Errorf("PUT: %s", upd.Raw)
	}
	if upd = e.do("PUT", path, a, map[string]any{"name": "two-hourly"}).want(t, 200); upd.Body["config"].(map[string]any)["period"].(float64) != 7200 {
		t.Errorf("PUT without config changed it: %s", upd.Raw)
	}
	if got := e.do("PUT", path, a, map[string]any{"config": map[string]any{"period": 61}}); got.Status != 400 {
		t.Errorf("PUT invalid config: %d %s", got.Status, got.Raw)
	}
	user := e.newUser("user@example.com", identity.RoleUser)
	e.do("GET", "/schedules/byid/"+fmt.Sprint(id), &user, nil).want(t, 200)
	if got := e.do("PUT", path, &user, map[string]any{"name": "mine"}); got.Status != 403 || got.Body["error"] == nil {
		t.Errorf("another's PUT: %d %s, want 403", got.Status, got.Raw)
	}
	if got := e.do("DELETE", path, &user, nil); got.Status != 403 {
		t.Errorf("another's DELETE: %d %s, want 403", got.Status, got.Raw)
	}
	if got := e.do("DELETE", path, a, nil).want(t, 200); got.Body["deleted"].(float64) != float64(id) {
		t.Errorf("DELETE: %s", got.Raw)
	}
	for _, p := range []string{"/schedules/byid/" + fmt.Sprint(id), "/schedules/byid/abc"} {
		if got := e.do("GET", p, a, nil); got.Status != 404 || got.Body["error"] == nil {
			t.Errorf("GET %s: %d %s, want 404 {\"error\"}", p, got.Status, got.Raw)
		}
	}
	if got := e.do("GET", "/schedules", nil, nil); got.Status != 401 || got.Body["error"] == nil {
		t.Errorf("unauthenticated: %d %s, want 401 in Kragle's shape", got.Status, got.Raw)
	}
}
