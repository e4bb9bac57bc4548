package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/identity"
)

// batchesFields returns the fields of a /batches-shaped error.
func (r resp) batchesFields() map[string]any {
	e, _ := r.Body["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

// array decodes a bare JSON array body.
func (r resp) array(t *testing.T) []any {
	t.Helper()
	var out []any
	if err := jsonUnmarshal(r.Raw, &out); err != nil {
		t.Fatalf("not an array: %s", r.Raw)
	}
	return out
}

func (e *env) account(t *testing.T, name string, teams ...string) string {
	t.Helper()
	body := map[string]any{"Name": name, "BaseRegion": "us-east-1", "RoleArn": role}
	if teams != nil {
		body["Teams"] = teams
	}
	return e.do("POST", "/api/accounts/CloudFrontAWS", &e.admin, body).want(t, 201).data().(map[string]any)["Id"].(string)
}

func (e *env) newTool(t *testing.T, key *identity.NewKey, cmd ...string) string {
	t.Helper()
	return e.do("POST", "/tools", key, map[string]any{"name": "digest", "version": "1.0", "title": "Digest", "command": cmd,
		"hardware": map[string]any{"cpu": 1, "memory": 512}}).want(t, 201).Body["tool_id"].(string)
}

// TestToolsAndBatches walks seed 002's surface through the router: a
// tool, a batch (a missing placeholder refused naming the job and the
// name), its counts, jobs, the tool in use (409), errors in the surface's
// own shape, another team's batch (404).
func TestToolsAndBatches(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	acc := e.account(t, "prod")
	tool := e.newTool(t, a, "sh", "-c", `printf %s "$1" | sha256sum`, "sh", "{input}")
	got := e.do("POST", "/batches", a, map[string]any{"tool_id": tool, "args": []map[string]string{{"input": "a"}, {"other": "b"}}})
	if got.Status != 400 || !strings.Contains(fmt.Sprint(got.batchesFields()["args[1]"]), `"input"`) {
		t.Fatalf("missing placeholder: %d %s, want 400 naming args[1] and input", got.Status, got.Raw)
	}
	created := e.do("POST", "/batches", a, map[string]any{"tool_id": tool, "title": "t", "args": []map[string]string{{"input": "a"}, {"input": "b"}}}).want(t, 201)
	id := created.Body["batch_id"].(string)
	if created.Body["id"].(float64) < 1 {
		t.Fatalf("no number: %s", created.Raw)
	}
	b := e.do("GET", "/batches/"+id, a, nil).want(t, 200).array(t)[0].(map[string]any)
	if b["n_jobs"].(float64) != 2 || b["submitted_jobs"].(map[string]any)["SUBMITTED"].(float64) != 2 || b["account_id"] != acc {
		t.Fatalf("batch: %v", b)
	}
	if jobs := e.do("GET", "/batches/"+id+"/jobs", a, nil).want(t, 200).array(t); len(jobs) != 2 {
		t.Fatalf("jobs: %v", jobs)
	}
	job := e.do("GET", "/batches/"+id+"/jobs/1", a, nil).want(t, 200).array(t)[0].(map[string]any)
	if job["status"] != "SUBMITTED" || job["args"].(map[string]any)["input"] != "b" {
		t.Fatalf("job: %v", job)
	}
	e.do("GET", "/batches/"+id+"/jobs/2", a, nil).want(t, 404)
	if lg := e.do("GET", "/batches/"+id+"/jobs/1/log", a, nil).want(t, 200); lg.Body["log_id"] != nil || len(lg.Body["lines"].([]any)) != 0 {
		t.Fatalf("log of a job not started: %s", lg.Raw)
	}
	e.do("GET", "/batches/"+id+"/jobs/1/log?limit=1001", a, nil).want(t, 400)
	if r := e.do("POST", "/batches/"+id+"/retry", a, nil).want(t, 200); r.Body["retried"].(float64) != 0 {
		t.Fatalf("retry with nothing failed: %s", r.Raw)
	}
	if c := b["cost"].(map[string]any); c["dollars"] == nil || c["instance_type"] != "c5.large" {
		t.Fatalf("cost of a 1-vCPU batch: %v", c)
	}
	huge := e.do("POST", "/batches", a, map[string]any{"tool_id": tool, "hardware": map[string]any{"cpu": 96, "memory": 1 << 20},
		"args": []map[string]string{{"input": "a"}}}).want(t, 201).Body["batch_id"].(string)
	if c := e.do("GET", "/batches/"+huge, a, nil).want(t, 200).array(t)[0].(map[string]any)["cost"].(map[string]any); c["dollars"] != nil || c["instance_type"] != nil {
		t.Fatalf("cost of hardware no catalog type fits: %v, want unknown (null)", c)
	}
	if got := e.do("DELETE", "/tools/"+tool, a, nil); got.Status != 409 || got.Body["error"].(map[string]any)["code"] != "conflict" {
		t.Fatalf("delete a tool in use: %d %s, want 409", got.Status, got.Raw)
	}
	if got := e.do("GET", "/batches/B-NOPE", a, nil); got.Status != 404 || got.Body["error"] == nil {
		t.Fatalf("missing batch: %d %s", got.Status, got.Raw)
	}
	if got := e.do("GET", "/batches", nil, nil); got.Status != 401 || got.Body["error"] == nil {
		t.Fatalf("unauthenticated: %d %s, want 401 in the /batches shape", got.Status, got.Raw)
	}
	if list := e.do("GET", "/batches", a, nil).want(t, 200).array(t); len(list) != 2 {
		t.Fatalf("list: %v", list)
	}
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Ops"}).want(t, 201)
	ops := e.account(t, "ops", "Ops")
	theirs := e.do("POST", "/batches", a, map[string]any{"tool_id": tool, "account_id": ops, "args": []map[string]string{{"input": "x"}}}).
		want(t, 201).Body["batch_id"].(string)
	user := e.newUser("dev@example.com", identity.RoleUser)
	e.do("GET", "/batches/"+theirs, &user, nil).want(t, 404)
	if list := e.do("GET", "/batches", &user, nil).want(t, 200).array(t); len(list) != 2 {
		t.Fatalf("a User sees %d batches, want the default team's two", len(list))
	}
	e.do("DELETE", "/tools/"+tool, &user, nil).want(t, 403)
	if n := e.do("DELETE", "/batches", a, nil).want(t, 200).Body["deleted"].(float64); n != 3 {
		t.Fatalf("DELETE /batches deleted %v, want 3", n)
	}
	e.do("GET", "/batches/"+id, a, nil).want(t, 404)
}

// TestScaleBatchesParams: every Scale list parameter, good and bad.
func TestScaleBatchesParams(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	e.account(t, "prod")
	tool := e.newTool(t, a, "echo", "{x}")
	for i := range 3 {
		e.do("POST", "/batches", a, map[string]any{"tool_id": tool, "title": fmt.Sprintf("b%d", i), "args": []map[string]string{{"x": "1"}}}).want(t, 201)
	}
	tests := []struct {
		query   string
		status  int
		count   int
		results int
		field   string
	}{
		{"", 200, 3, 3, ""},
		{"page_size=2", 200, 3, 2, ""},
		{"page_size=2&page=2", 200, 3, 1, ""},
		{"page=3&page_size=2", 404, 0, 0, "detail"},
		{"page_size=0", 400, 0, 0, "page_size"},
		{"page_size=1001", 400, 0, 0, "page_size"},
		{"page_size=1000", 200, 3, 3, ""},
		{"page=0", 400, 0, 0, "page"},
		{"page=x", 400, 0, 0, "page"},
		{"started=PT3H0M0S", 200, 3, 3, ""},
		{"started=PT3H0X", 400, 0, 0, "started"},
		{"started=P", 400, 0, 0, "started"},
		{"ended=2015-01-01T00:00:00Z", 200, 0, 0, ""},
		{"ended=2015-01-01T00:00:00", 400, 0, 0, "ended"},
		{"started=2099-01-01T00:00:00Z", 200, 0, 0, ""},
		{"started=PT1H&ended=PT2H", 400, 0, 0, "ended"},
		{"order=-title", 200, 3, 3, ""},
		{"order=title&order=-created", 200, 3, 3, ""},
		{"order=nope", 400, 0, 0, "order"},
		{"status=CREATED", 200, 3, 3, ""},
		{"status=SUBMITTED", 200, 0, 0, ""},
		{"status=CREATED&status=SUBMITTED", 200, 3, 3, ""},
		{"status=RUNNING", 400, 0, 0, "status"},
		{"recipe_type_id=1", 200, 3, 3, ""},
		{"recipe_type_id=2", 200, 0, 0, ""},
		{"recipe_type_id=x", 400, 0, 0, "recipe_type_id"},
		{"recipe_type_name=digest", 200, 3, 3, ""},
		{"recipe_type_name=other&recipe_type_name=digest", 200, 3, 3, ""},
		{"recipe_type_name=other", 200, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := e.do("GET", "/v6/batches/?"+tt.query, a, nil)
			if got.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", got.Status, tt.status, got.Raw)
			}
			if tt.field != "" {
				if got.Body[tt.field] == nil {
					t.Fatalf("error %s does not name %s", got.Raw, tt.field)
				}
				return
			}
			if n := got.Body["count"].(float64); int(n) != tt.count || len(got.Body["results"].([]any)) != tt.results {
				t.Fatalf("count %v, %d results; want %d, %d: %s", n, len(got.Body["results"].([]any)), tt.count, tt.results, got.Raw)
			}
		})
	}
	page := e.do("GET", "/v6/batches/?page_size=1&order=title", a, nil).want(t, 200)
	first := page.Body["results"].([]any)[0].(map[string]any)
	if first["title"] != "b0" || first["recipe_type"].(map[string]any)["name"] != "digest" || first["event"] != nil || first["total_count"].(float64) != 1 {
		t.Fatalf("first result: %v", first)
	}
	next, _ := url.Parse(page.Body["next"].(string))
	if next.Query().Get("page") != "2" || next.Query().Get("order") != "title" || page.Body["previous"] != nil {
		t.Fatalf("next %v, previous %v", page.Body["next"], page.Body["previous"])
	}
	e.do("GET", "/v6/batches", a, nil).want(t, 200)
	if got := e.do("GET", "/v6/batches/", nil, nil); got.Status != 401 || got.Body["detail"] == nil {
		t.Fatalf("unauthenticated: %d %s, want 401 with detail", got.Status, got.Raw)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
