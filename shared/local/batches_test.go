package local_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/store/storetest"
)

// jsonCall calls the API and decodes whatever JSON it answers (the
// /batches surface answers bare arrays as well as objects).
func (h *harness) jsonCall(method, path string, body any) (int, any) {
	h.t.Helper()
	status, out, _ := h.jsonCallHeader(method, path, body)
	return status, out
}

// jsonCallHeader is jsonCall with the response's headers (a bare list's
// next page token is its Next-Token header).
func (h *harness) jsonCallHeader(method, path string, body any) (int, any, http.Header) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	req.Header.Set("Authorization", "ApiKey "+h.admin.AccessKey+":"+h.admin.SecretKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out any
	_ = json.Unmarshal(raw, &out)
	if res.StatusCode >= 500 {
		h.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, out, res.Header
}

// object answers one JSON object, unwrapping seed 002's one-element array.
func (h *harness) object(status int, method, path string, body any) map[string]any {
	h.t.Helper()
	got, out := h.jsonCall(method, path, body)
	if got != status {
		h.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, status, out)
	}
	if list, ok := out.([]any); ok && len(list) == 1 {
		out = list[0]
	}
	m, ok := out.(map[string]any)
	if !ok {
		h.t.Fatalf("%s %s: not an object: %v", method, path, out)
	}
	return m
}

// waitLong polls f until it holds, for at most 3 minutes (200 real
// processes and a thousand transactions on a loaded machine; a liveness
// bound, not a timing assertion).
func waitLong(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); !f(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// counts reads a batch's per-status counts.
func (h *harness) counts(batch string) (map[string]int, int) {
	b := h.object(200, "GET", "/batches/"+batch, nil)
	out := map[string]int{}
	for k, v := range b["submitted_jobs"].(map[string]any) {
		out[k] = int(v.(float64))
	}
	return out, int(b["n_jobs"].(float64))
}

// jobsOf lists a batch's jobs, following the Next-Token header.
func (h *harness) jobsOf(batch string) []map[string]any {
	var jobs []map[string]any
	token := ""
	for range 1000 {
		path := "/batches/" + batch + "/jobs?limit=100"
		if token != "" {
			path += "&next_token=" + url.QueryEscape(token)
		}
		status, out, hdr := h.jsonCallHeader("GET", path, nil)
		list, ok := out.([]any)
		if status != 200 || !ok {
			h.t.Fatalf("jobs of %s: %d %v", batch, status, out)
		}
		for _, j := range list {
			jobs = append(jobs, j.(map[string]any))
		}
		if token = hdr.Get("Next-Token"); token == "" {
			return jobs
		}
	}
	h.t.Fatalf("jobs of %s: pages never end", batch)
	return nil
}

// logText reads a job's whole log through the paged log route.
func (h *harness) logText(batch, job string) string {
	var b strings.Builder
	token := ""
	for range 100 {
		path := "/batches/" + batch + "/jobs/" + job + "/log"
		if token != "" {
			path += "?next_token=" + url.QueryEscape(token)
		}
		page := h.object(200, "GET", path, nil)
		for _, l := range page["lines"].([]any) {
			b.WriteString(l.(map[string]any)["message"].(string) + "\n")
		}
		next, _ := page["next_token"].(string)
		if next == "" {
			return b.String()
		}
		token = next
	}
	h.t.Fatalf("log of %s/%s never ends", batch, job)
	return ""
}

// batchProcesses lists the live processes the local executor runs for a
// batch (their environment names it), whatever their process group.
func batchProcesses(t *testing.T, batch string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("BATCHPLANE_BATCH_ID=" + batch + "\x00")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
				continue // a zombie runs nothing
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// shaTool is the walk-through's tool: each job writes its content to a
// file in its own temporary directory and digests it. The content is the
// shell's "$1", never part of the script.
var shaTool = map[string]any{"name": "sha", "version": "1", "title": "sha256 of a file", "description": "digests its content arg",
	"image":    "public.ecr.aws/docker/library/busybox:stable",
	"command":  []string{"sh", "-c", `printf %s "$1" > "$TMPDIR/in" && sha256sum "$TMPDIR/in"`, "sh", "{content}"},
	"hardware": map[string]any{"cpu": 1, "memory": 128}}

// TestBatchesWalkThrough is the README's batches walk-through, through the
// HTTP routes only, on the local executor: 200 real jobs whose logs hold
// the right digests, a batch with failing jobs, and the deletion of a
// running batch leaving no process behind.
func TestBatchesWalkThrough(t *testing.T) {
	db := storetest.Client(t)
	h := start(t, wire(t, storetest.NewTable(t, db), ""), nil)
	defer h.close()
	h.account()
	tool := h.object(201, "POST", "/tools", shaTool)["tool_id"].(string)

	const n = 200
	args := make([]map[string]string, n)
	for i := range args {
		// Spaces, quotes, ; and $ stay data.
		args[i] = map[string]string{"content": fmt.Sprintf("job %d; echo 'not run' $HOME \"%d\"", i, i*i)}
	}
	batch := h.object(201, "POST", "/batches", map[string]any{"tool_id": tool, "args": args, "title": "digests"})["batch_id"].(string)
	last := map[string]int{}
	waitLong(t, "200 jobs SUCCEEDED", func() bool {
		c, total := h.counts(batch)
		sum := 0
		for _, v := range c {
			sum += v
		}
		if total != n || c["FAILED"] != 0 || c["SUCCEEDED"] < last["SUCCEEDED"] || sum > n {
			t.Fatalf("counts %v of %d after %v", c, total, last)
		}
		last = c
		return c["SUCCEEDED"] == n
	})
	jobs := h.jobsOf(batch)
	if len(jobs) != n {
		t.Fatalf("%d jobs listed", len(jobs))
	}
	for _, j := range jobs {
		id := j["job_id"].(string)
		content := j["args"].(map[string]any)["content"].(string)
		sum := sha256.Sum256([]byte(content))
		if log := h.logText(batch, id); !strings.HasPrefix(log, hex.EncodeToString(sum[:])+"  ") {
			t.Fatalf("job %s (%q): log %q, want the digest %x", id, content, log, sum)
		}
		if st := h.object(200, "GET", "/batches/"+batch+"/jobs/"+id, nil); st["status"] != "SUCCEEDED" || st["start_time"] == nil || st["stop_time"] == nil {
			t.Fatalf("job %s: %v", id, st)
		}
	}

	t.Run("failing jobs", func(t *testing.T) { failingBatch(t, h) })
	t.Run("deleting a running batch", func(t *testing.T) { deleteRunning(t, h) })
}

func failingBatch(t *testing.T, h *harness) {
	tool := h.object(201, "POST", "/tools", map[string]any{"name": "exit", "version": "1", "image": "busybox",
		"command": []string{"sh", "-c", `echo "exiting $1"; exit "$1"`, "sh", "{code}"}, "hardware": map[string]any{"cpu": 1, "memory": 128}})["tool_id"].(string)
	codes := []string{"0", "3", "0", "7", "0"}
	var args []map[string]string
	for _, c := range codes {
		args = append(args, map[string]string{"code": c})
	}
	batch := h.object(201, "POST", "/batches", map[string]any{"tool_id": tool, "args": args})["batch_id"].(string)
	waitLong(t, "the failing batch ends", func() bool {
		c, _ := h.counts(batch)
		return c["SUCCEEDED"]+c["FAILED"] == len(codes)
	})
	if c, _ := h.counts(batch); c["SUCCEEDED"] != 3 || c["FAILED"] != 2 {
		t.Fatalf("counts %v, want 3 SUCCEEDED and 2 FAILED", c)
	}
	for _, j := range h.jobsOf(batch) {
		id := j["job_id"].(string)
		code := j["args"].(map[string]any)["code"].(string)
		st := h.object(200, "GET", "/batches/"+batch+"/jobs/"+id, nil)
		want, reason := "SUCCEEDED", ""
		if code != "0" {
			want, reason = "FAILED", "exit status "+code
		}
		if st["status"] != want || (st["reason"] != nil && st["reason"] != reason) || (reason != "" && st["reason"] != reason) {
			t.Errorf("job %s (exit %s): %v %v", id, code, st["status"], st["reason"])
		}
		if log := h.logText(batch, id); log != "exiting "+code+"\n" {
			t.Errorf("job %s: log %q", id, log)
		}
	}
}

func deleteRunning(t *testing.T, h *harness) {
	tool := h.object(201, "POST", "/tools", map[string]any{"name": "sleeper", "version": "1", "image": "busybox",
		"command":  []string{"sh", "-c", `sleep "$1" & sleep "$1"; wait`, "sh", "{secs}"},
		"hardware": map[string]any{"cpu": 1, "memory": 128}})["tool_id"].(string)
	args := make([]map[string]string, 6)
	for i := range args {
		args[i] = map[string]string{"secs": "1000"}
	}
	batch := h.object(201, "POST", "/batches", map[string]any{"tool_id": tool, "args": args})["batch_id"].(string)
	waitLong(t, "jobs running", func() bool {
		c, _ := h.counts(batch)
		return c["RUNNING"] > 0 && len(batchProcesses(t, batch)) > 0
	})
	if got, out := h.jsonCall("DELETE", "/batches/"+batch, nil); got >= 300 {
		t.Fatalf("DELETE: %d %v", got, out)
	}
	// The deletion cancels in the background (the batch's dispatch):
	// wait for it to finish, then nothing of the batch may be left.
	waitLong(t, "the batch gone and its jobs cancelled", func() bool {
		got, _ := h.jsonCall("GET", "/batches/"+batch, nil)
		return got == 404 && h.rt.Batch.Active() == 0 && len(batchProcesses(t, batch)) == 0
	})
	if got, out := h.jsonCall("GET", "/batches/"+batch+"/jobs", nil); got != 404 {
		t.Fatalf("jobs of the deleted batch: %d %v", got, out)
	}
}

// TestBatchesResumeAfterRestart stops the local runtime in the middle of a
// batch capped at one running job, then starts another on the same table:
// the job that was running ends FAILED ("local executor stopped"; retry
// reruns it), and the jobs never dispatched run after the restart.
func TestBatchesResumeAfterRestart(t *testing.T) {
	db := storetest.Client(t)
	table := storetest.NewTable(t, db)
	h := start(t, wire(t, table, ""), nil)
	h.account()
	tool := h.object(201, "POST", "/tools", map[string]any{"name": "nap", "version": "1", "image": "busybox",
		"command": []string{"sh", "-c", `sleep "$1"`, "sh", "{secs}"}, "hardware": map[string]any{"cpu": 1, "memory": 128}})["tool_id"].(string)
	args := []map[string]string{{"secs": "0"}, {"secs": "1000"}, {"secs": "0"}, {"secs": "0"}}
	batch := h.object(201, "POST", "/batches", map[string]any{"tool_id": tool, "args": args, "max_running": 1})["batch_id"].(string)
	waitLong(t, "the second job running", func() bool {
		c, _ := h.counts(batch)
		return c["SUCCEEDED"] == 1 && c["RUNNING"] == 1
	})
	admin := h.admin
	h.close()
	if left := batchProcesses(t, batch); len(left) != 0 {
		t.Fatalf("processes left by the stopped runtime: %v", left)
	}

	h2 := start(t, wire(t, table, ""), &admin)
	defer h2.close()
	if h2.rt.ResumedBatches != 1 {
		t.Fatalf("resumed %d batches, want 1", h2.rt.ResumedBatches)
	}
	waitLong(t, "the batch ends after the restart", func() bool {
		c, _ := h2.counts(batch)
		return c["SUCCEEDED"]+c["FAILED"] == len(args)
	})
	if c, _ := h2.counts(batch); c["SUCCEEDED"] != 3 || c["FAILED"] != 1 {
		t.Fatalf("counts %v, want 3 SUCCEEDED and the stopped one FAILED", c)
	}
	if st := h2.object(200, "GET", "/batches/"+batch+"/jobs/1", nil); st["status"] != "FAILED" || st["reason"] != "local executor stopped" {
		t.Fatalf("the stopped job: %v %v", st["status"], st["reason"])
	}
}

// TestBatchesLostJobsAfterACrash: a second runtime starts on the table
// while the first still holds a running job (as if the first had been
// killed without reporting it): the job its executor does not know ends
// FAILED as lost, the batch's other jobs run on, and the counts stay
// exact.
func TestBatchesLostJobsAfterACrash(t *testing.T) {
	db := storetest.Client(t)
	table := storetest.NewTable(t, db)
	h := start(t, wire(t, table, ""), nil)
	h.account()
	tool := h.object(201, "POST", "/tools", map[string]any{"name": "nap", "version": "1", "image": "busybox",
		"command": []string{"sh", "-c", `sleep "$1"`, "sh", "{secs}"}, "hardware": map[string]any{"cpu": 1, "memory": 128}})["tool_id"].(string)
	args := []map[string]string{{"secs": "1000"}, {"secs": "0"}, {"secs": "0"}}
	batch := h.object(201, "POST", "/batches", map[string]any{"tool_id": tool, "args": args, "max_running": 1})["batch_id"].(string)
	waitLong(t, "the first job running", func() bool { c, _ := h.counts(batch); return c["RUNNING"] == 1 })

	h2 := start(t, wire(t, table, ""), &h.admin)
	defer h2.close()
	waitLong(t, "the batch ends on the second runtime", func() bool {
		c, _ := h2.counts(batch)
		return c["SUCCEEDED"]+c["FAILED"] == len(args)
	})
	if c, _ := h2.counts(batch); c["SUCCEEDED"] != 2 || c["FAILED"] != 1 {
		t.Fatalf("counts %v, want 2 SUCCEEDED and the lost one FAILED", c)
	}
	if st := h2.object(200, "GET", "/batches/"+batch+"/jobs/0", nil); st["status"] != "FAILED" || !strings.HasPrefix(st["reason"].(string), "lost: ") {
		t.Fatalf("the lost job: %v %v", st["status"], st["reason"])
	}
	h.close() // the first runtime's late report of its job changes nothing
	if c, _ := h2.counts(batch); c["SUCCEEDED"] != 2 || c["FAILED"] != 1 {
		t.Fatalf("counts after the first runtime stopped: %v", c)
	}
	if left := batchProcesses(t, batch); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
}
