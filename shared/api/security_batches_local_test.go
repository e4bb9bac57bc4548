package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/identity"
)

// The security suite's cells that need the local executor (newLocalEnv:
// real processes, as under make run).

// logOf reads every page of a job's log; each page must be valid JSON of
// valid UTF-8.
func (e *env) logOf(t *testing.T, key *identity.NewKey, batch, job string) []string {
	t.Helper()
	var out []string
	token := ""
	for range 100 {
		got := e.do("GET", "/batches/"+batch+"/jobs/"+job+"/log?next_token="+token, key, nil).want(t, 200)
		if !json.Valid(got.Raw) || !utf8.Valid(got.Raw) {
			t.Fatalf("log page is not valid JSON of UTF-8: %.200q", got.Raw)
		}
		for _, l := range got.Body["lines"].([]any) {
			out = append(out, l.(map[string]any)["message"].(string))
		}
		next, _ := got.Body["next_token"].(string)
		if next == "" {
			return out
		}
		token = next
	}
	t.Fatal("log has more than 100 pages")
	return nil
}

// TestAPI8LocalExecutorTrustBoundary (API8:2023, API5:2023): under the
// local executor a tool's command runs on this machine as the server's
// user, so registering one is an Administrator's (a User gets 403, as for
// the local routes); an arg with shell metacharacters stays one argv
// element; a job's environment holds nothing of the server's.
func TestAPI8LocalExecutorTrustBoundary(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "leak-aws-secret")
	t.Setenv("BP_SECRET_PROBE", "leak-bp-variable")
	e := newLocalEnv(t)
	a := &e.admin
	e.account(t, "prod")
	user := e.newUser("dev@example.com", identity.RoleUser)
	got := e.do("POST", "/tools", &user, map[string]any{"name": "sh", "version": "1", "command": []string{"sh", "-c", "id"},
		"hardware": map[string]any{"cpu": 1, "memory": 512}})
	if got.Status != 403 || got.Body["error"] == nil {
		t.Fatalf("a User registers a host tool under the local executor: %d %s, want 403 in the /batches shape", got.Status, got.Raw)
	}
	echo := e.newTool(t, a, "printf", "%s|", "{x}")
	env := e.newTool(t, a, "env")
	hostile := `a b; touch pwned && $(id) | "q" 'r' ` + "`id` > /tmp/x $HOME * \\"
	b1 := e.do("POST", "/batches", &user, map[string]any{"tool_id": echo, "args": []map[string]string{{"x": hostile}}}).want(t, 201).Body["batch_id"].(string)
	b2 := e.do("POST", "/batches", &user, map[string]any{"tool_id": env, "args": []map[string]string{{}}}).want(t, 201).Body["batch_id"].(string)
	for _, b := range []string{b1, b2} {
		if c := e.batchEnded(t, &user, b)["submitted_jobs"].(map[string]any); c["SUCCEEDED"].(float64) != 1 {
			t.Fatalf("batch %s: %v", b, c)
		}
	}
	if lines := e.logOf(t, &user, b1, "0"); len(lines) != 1 || lines[0] != hostile+"|" {
		t.Errorf("printf %%s| <hostile arg> printed %q, want the arg as one argv element", lines)
	}
	lines := e.logOf(t, &user, b2, "0")
	joined := strings.Join(lines, "\n")
	for _, leak := range []string{"leak-aws-secret", "leak-bp-variable", "AWS_SECRET", "BP_", "credentials.json", "master.key", e.admin.SecretKey} {
		if strings.Contains(joined, leak) {
			t.Errorf("a job's environment holds %q:\n%s", leak, joined)
		}
	}
	if len(lines) < 3 {
		t.Fatalf("env printed %q", lines)
	}
}

// TestAPI4JobOutputIsBounded (API4:2023): a job printing 100 MB, a line of
// 10 MB, NUL and invalid UTF-8 is stored bounded (the executor's log
// limit) and read back as valid JSON; a forged next_token is a 400, not a
// 500.
func TestAPI4JobOutputIsBounded(t *testing.T) {
	e := newLocalEnv(t)
	a := &e.admin
	e.account(t, "prod")
	tool := e.newTool(t, a, "sh", "-c", "{script}")
	scripts := []string{
		"head -c 100000000 /dev/zero | tr '\\0' 'a' | fold -w 100",
		"head -c 10000000 /dev/zero | tr '\\0' 'b'; echo",
		"printf 'nul\\000byte\\n\\377\\376bad utf8\\n\\033[31mescape\\n'",
	}
	args := make([]map[string]string, len(scripts))
	for i, s := range scripts {
		args[i] = map[string]string{"script": s}
	}
	b := e.do("POST", "/batches", a, map[string]any{"tool_id": tool, "args": args}).want(t, 201).Body["batch_id"].(string)
	e.batchEnded(t, a, b)
	for i := range scripts {
		job := string(rune('0' + i))
		n := 0
		lines := e.logOf(t, a, b, job)
		for _, l := range lines {
			n += len(l)
		}
		if n > 2<<20 || len(lines) == 0 {
			t.Errorf("job %d: %d lines, %d bytes of log read back; want at most the 1 MiB log limit", i, len(lines), n)
		}
		if i < 2 && !strings.Contains(lines[len(lines)-1], "truncated") {
			t.Errorf("job %d: the last line %.80q does not say the log was truncated", i, lines[len(lines)-1])
		}
	}
	for _, tok := range []string{"x", "-1", "99999999999999999999", "0"} {
		got := e.do("GET", "/batches/"+b+"/jobs/2/log?next_token="+tok, a, nil)
		if got.Status != 400 || got.Body["error"] == nil {
			t.Errorf("next_token %q: %d %.200s, want 400 in the /batches shape", tok, got.Status, got.Raw)
		}
	}
}

// TestAPI4ConcurrentBatchWrites (API4:2023, API6:2023): 20 simultaneous
// retries or deletes of one batch answer no 5xx and move the counts
// exactly; two POST /batches with one Idempotency-Key make one batch.
func TestAPI4ConcurrentBatchWrites(t *testing.T) {
	e := newLocalEnv(t)
	a := &e.admin
	e.account(t, "prod")
	tool := e.newTool(t, a, "false")
	args := make([]map[string]string, 5)
	for i := range args {
		args[i] = map[string]string{}
	}
	b := e.do("POST", "/batches", a, map[string]any{"tool_id": tool, "args": args}).want(t, 201).Body["batch_id"].(string)
	e.batchEnded(t, a, b)
	all := func(method, path string, body any) []resp {
		out := make([]resp, 20)
		var wg sync.WaitGroup
		for i := range out {
			wg.Add(1)
			go func() { defer wg.Done(); out[i] = e.do(method, path, a, body) }()
		}
		wg.Wait()
		return out
	}
	retried := 0
	for _, r := range all("POST", "/batches/"+b+"/retry", nil) {
		if r.Status >= 500 || (r.Status != 200 && r.Status != 409) {
			t.Errorf("concurrent retry: %d %s", r.Status, r.Raw)
		}
		if r.Status == 200 {
			retried += int(r.Body["retried"].(float64))
		}
	}
	if retried != 5 {
		t.Errorf("20 concurrent retries retried %d jobs in all, want 5", retried)
	}
	got := e.batchEnded(t, a, b)
	if c := got["submitted_jobs"].(map[string]any); c["FAILED"].(float64) != 5 || c["SUBMITTED"].(float64) != 0 {
		t.Errorf("counts after the retries: %v", c)
	}
	deleted := 0
	for _, r := range all("DELETE", "/batches/"+b, nil) {
		if r.Status != 200 && r.Status != 404 {
			t.Errorf("concurrent delete: %d %s", r.Status, r.Raw)
		}
		if r.Status == 200 {
			deleted++
		}
	}
	if deleted < 1 {
		t.Errorf("no concurrent delete succeeded")
	}
	e.do("GET", "/batches/"+b, a, nil).want(t, 404)

	body := `{"tool_id":"` + tool + `","args":[{}]}`
	var wg sync.WaitGroup
	res := make([]resp, 2)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := e.request(t, "POST", "/batches", a, body)
			req.Header.Set("Idempotency-Key", "same-key")
			res[i] = e.send(req)
		}()
	}
	wg.Wait()
	for _, r := range res {
		if r.Status != 201 && r.Status != 409 {
			t.Errorf("POST /batches with one Idempotency-Key: %d %s", r.Status, r.Raw)
		}
	}
	if l := e.do("GET", "/batches", a, nil).want(t, 200).array(t); len(l) != 1 {
		t.Errorf("two POST /batches with one Idempotency-Key made %d batches, want 1", len(l))
	}
}

// request builds an authenticated JSON request.
func (e *env) request(t *testing.T, method, path string, key *identity.NewKey, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "ApiKey "+key.AccessKey+":"+key.SecretKey)
	return req
}
