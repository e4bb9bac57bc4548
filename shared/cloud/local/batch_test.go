package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

// states records the callback's deliveries per job.
type states struct {
	mu   sync.Mutex
	byID map[string][]cloud.BatchJobState
	fail int // fail this many calls first
}

func (s *states) observe(ctx context.Context, st cloud.BatchJobState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("store unavailable")
	}
	if s.byID == nil {
		s.byID = map[string][]cloud.BatchJobState{}
	}
	s.byID[st.ExternalID] = append(s.byID[st.ExternalID], st)
	return nil
}

func (s *states) statuses(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, st := range s.byID[id] {
		out = append(out, st.Status)
	}
	return out
}

func newBatch(t *testing.T, o BatchOptions) (*Batch, *states) {
	t.Helper()
	rec := &states{}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.OnState == nil {
		o.OnState = rec.observe
	}
	b, err := NewBatch(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b, rec
}

var seq int

func submit(t *testing.T, b *Batch, cpu float64, mib int, argv ...string) string {
	t.Helper()
	seq++
	id, err := b.Submit(context.Background(), target, cloud.BatchJobSpec{BatchID: "b1", Index: seq, Attempt: 1,
		Name: fmt.Sprintf("b1-%d-1", seq), Argv: argv, CPU: cpu, Memory: mib})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// eventually polls cond until it holds (a liveness bound, not a timing
// assertion: a loaded machine only makes it slower).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// final waits for the job's end and its final state's delivery.
func final(t *testing.T, b *Batch, rec *states, id string) cloud.BatchJobState {
	t.Helper()
	var got cloud.BatchJobState
	eventually(t, id+" ends", func() bool {
		d, _ := b.Describe(context.Background(), target, []string{id})
		if len(d) != 1 || !isFinal(d[0].Status) {
			return false
		}
		got = d[0]
		s := rec.statuses(id)
		return len(s) > 0 && isFinal(s[len(s)-1])
	})
	return got
}

// lifecycle is every state of a job, in order.
var lifecycle = []string{"SUBMITTED", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"}

// forward reports whether delivered states only move forward through the
// lifecycle (a state queued behind an undelivered one replaces it) and
// end at final.
func forward(got []string, final string) bool {
	if len(got) == 0 || got[len(got)-1] != final || slices.Index(got, "SUCCEEDED") >= 0 && slices.Index(got, "FAILED") >= 0 {
		return false
	}
	prev := -1
	for _, s := range got {
		i := slices.Index(lifecycle, s)
		if i <= prev {
			return false
		}
		prev = i
	}
	return true
}

func logMessages(t *testing.T, b *Batch, logID string) []string {
	t.Helper()
	lines, next, err := b.Logs(context.Background(), target, logID, "", 10000)
	if err != nil || next != "" {
		t.Fatalf("logs %s: next %q, %v", logID, next, err)
	}
	var out []string
	for _, l := range lines {
		out = append(out, l.Message)
	}
	return out
}

func TestBatchArgvVerbatimAndStates(t *testing.T) {
	b, rec := newBatch(t, BatchOptions{})
	id := submit(t, b, 1, 64, "printf", `[%s]\n`, "a b; echo injected", "$HOME", "{x}", "")
	st := final(t, b, rec, id)
	if st.Status != "SUCCEEDED" || st.Reason != "" || !strings.HasPrefix(st.LogID, id+".") || st.StartedAt == nil || st.BatchID != "b1" {
		t.Fatalf("state %+v", st)
	}
	want := []string{"[a b; echo injected]", "[$HOME]", "[{x}]", "[]"}
	if got := logMessages(t, b, st.LogID); !slices.Equal(got, want) {
		t.Fatalf("log %q, want %q (each argv element one argument, no shell)", got, want)
	}
	if got := rec.statuses(id); !forward(got, "SUCCEEDED") {
		t.Fatalf("states %v", got)
	}
	if d, _ := b.Describe(context.Background(), target, []string{"lb-00000000000000000000", id}); len(d) != 1 {
		t.Fatalf("describe answered %d states; unknown ids are left out", len(d))
	}
}

func TestBatchExitReasons(t *testing.T) {
	b, rec := newBatch(t, BatchOptions{})
	cases := []struct {
		name   string
		argv   []string
		mib    int
		status string
		reason string
	}{
		{"success", []string{"true"}, 64, "SUCCEEDED", ""},
		{"exit status", []string{"sh", "-c", "exit 3"}, 64, "FAILED", "exit status 3"},
		{"signal, no memory limit", []string{"sh", "-c", "kill -KILL $$"}, 0, "FAILED", "signal: killed"},
		{"signal under a memory limit", []string{"sh", "-c", "kill -KILL $$"}, 64, "FAILED", "signal: killed (memory limit 64 MiB)"},
		{"missing program", []string{"no-such-tool-bp"}, 64, "FAILED", `start: exec: "no-such-tool-bp": executable file not found in $PATH`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := final(t, b, rec, submit(t, b, 1, c.mib, c.argv...))
			if st.Status != c.status || st.Reason != c.reason {
				t.Fatalf("got %s %q, want %s %q", st.Status, st.Reason, c.status, c.reason)
			}
		})
	}
}

// TestBatchSlots runs three times the slots' worth of jobs; each marks
// itself running (a directory) and records how many were running then.
func TestBatchSlots(t *testing.T) {
	cases := []struct {
		cpus  int
		cpu   float64
		slots int
	}{
		{2, 1, 2},
		{2, 2, 1},
		{2, 0.5, 4},
		{2, 4, 1}, // more than the machine: runs alone
		{4, 1.5, 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d CPUs, cpu %g", c.cpus, c.cpu), func(t *testing.T) {
			b, rec := newBatch(t, BatchOptions{CPUs: c.cpus})
			if got := b.Slots(c.cpu); got != c.slots {
				t.Fatalf("slots %d, want %d", got, c.slots)
			}
			dir := t.TempDir()
			script := `mkdir "$1/run.$2"; ls "$1" | grep -c '^run\.' > "$1/seen.$2"; sleep 0.2; rmdir "$1/run.$2"`
			var ids []string
			for i := range 3 * c.slots {
				ids = append(ids, submit(t, b, c.cpu, 64, "sh", "-c", script, "sh", dir, strconv.Itoa(i)))
			}
			most := 0
			for i, id := range ids {
				if st := final(t, b, rec, id); st.Status != "SUCCEEDED" {
					t.Fatalf("job %d: %+v", i, st)
				}
				raw, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("seen.%d", i)))
				if err != nil {
					t.Fatal(err)
				}
				n, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
				most = max(most, n)
			}
			if most < 1 || most > c.slots || b.Peak() > c.slots {
				t.Fatalf("max running seen by the jobs %d, executor peak %d; slots %d", most, b.Peak(), c.slots)
			}
		})
	}
}

func TestBatchMemoryLimit(t *testing.T) {
	// The shell holds the 40 MB string in memory.
	alloc := []string{"sh", "-c", `x=$(head -c 40000000 /dev/zero | tr '\0' a); echo ${#x}`}
	for _, lim := range []MemoryLimiter{LimitPrlimit, LimitUlimit} {
		t.Run(string(lim), func(t *testing.T) {
			if lim == LimitPrlimit {
				if _, err := exec.LookPath("prlimit"); err != nil {
					t.Skip("no prlimit on this machine")
				}
			}
			b, rec := newBatch(t, BatchOptions{Limiter: lim})
			if b.Limiter() != lim {
				t.Fatalf("limiter %s", b.Limiter())
			}
			over := final(t, b, rec, submit(t, b, 1, 16, alloc...))
			if over.Status != "FAILED" || !strings.Contains(over.Reason, "memory limit 16 MiB") {
				t.Fatalf("over the limit: %s %q", over.Status, over.Reason)
			}
			under := final(t, b, rec, submit(t, b, 1, 256, alloc...))
			if under.Status != "SUCCEEDED" || !slices.Equal(logMessages(t, b, under.LogID), []string{"40000000"}) {
				t.Fatalf("under the limit: %s %q", under.Status, under.Reason)
			}
		})
	}
}

// jobProcesses lists the live (not zombie) processes of a job, found by
// the AWS_BATCH_JOB_ID in their environment, whatever their group.
func jobProcesses(t *testing.T, id string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	marker := []byte("AWS_BATCH_JOB_ID=" + id + "\x00")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func TestBatchCancel(t *testing.T) {
	b, rec := newBatch(t, BatchOptions{CPUs: 1, KillGrace: 200 * time.Millisecond})
	// The shell ignores SIGTERM, so the grace's SIGKILL ends it.
	running := submit(t, b, 1, 64, "sh", "-c", `trap "" TERM; sleep 1000 & sleep 1000 & wait`)
	queuedID := submit(t, b, 1, 64, "sleep", "1000")
	eventually(t, "the job and its two children run", func() bool { return len(jobProcesses(t, running)) == 3 })
	if err := b.Cancel(context.Background(), target, []string{running, queuedID, "lb-00000000000000000000"}, ""); err != nil {
		t.Fatal(err)
	}
	if left := jobProcesses(t, running); len(left) != 0 || b.Active() != 0 {
		t.Fatalf("processes left after cancel: %v; %d jobs queued or running", left, b.Active())
	}
	for _, id := range []string{running, queuedID} {
		if st := final(t, b, rec, id); st.Status != "FAILED" || st.Reason != "cancelled" {
			t.Fatalf("%s: %s %q", id, st.Status, st.Reason)
		}
	}
	if got := rec.statuses(queuedID); !forward(got, "FAILED") || slices.Contains(got, "STARTING") || slices.Contains(got, "RUNNING") {
		t.Fatalf("queued job's states %v: it must never start", got)
	}
	if err := b.Cancel(context.Background(), target, []string{running}, ""); err != nil {
		t.Fatalf("cancelling an ended job: %v", err)
	}
	// A job's main process ending ends what it left behind.
	bg := submit(t, b, 1, 64, "sh", "-c", "sleep 1000 & echo started")
	if st := final(t, b, rec, bg); st.Status != "SUCCEEDED" {
		t.Fatalf("background job: %+v", st)
	}
	if left := jobProcesses(t, bg); len(left) != 0 {
		t.Fatalf("processes left after the job ended: %v", left)
	}
}

func TestBatchLogsPaged(t *testing.T) {
	b, rec := newBatch(t, BatchOptions{})
	id := submit(t, b, 1, 64, "sh", "-c", `i=1; while [ $i -le 25 ]; do echo "line $i"; i=$((i+1)); done; echo "to stderr" >&2`)
	st := final(t, b, rec, id)
	var got []string
	var pages []int
	token := ""
	var last time.Time
	for {
		lines, next, err := b.Logs(context.Background(), target, st.LogID, token, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(lines))
		for _, l := range lines {
			if l.Time.IsZero() || l.Time.Before(last) {
				t.Fatalf("line %q at %v after %v", l.Message, l.Time, last)
			}
			last = l.Time
			got = append(got, l.Message)
		}
		if next == "" {
			break
		}
		token = next
	}
	var want []string
	for i := 1; i <= 25; i++ {
		want = append(want, fmt.Sprintf("line %d", i))
	}
	want = append(want, "to stderr")
	if !slices.Equal(got, want) || !slices.Equal(pages, []int{10, 10, 6}) {
		t.Fatalf("pages %v of %q", pages, got)
	}
	bad := []struct{ logID, token string }{{st.LogID, "x"}, {st.LogID, "-1"}, {"../../etc/passwd", ""},
		{"lb-00000000000000000000.seg-1-1.0", ""}, {"lb-00000000000000000000.seg-1/../x.0", ""}}
	for _, c := range bad {
		_, _, err := b.Logs(context.Background(), target, c.logID, c.token, 10)
		if err == nil {
			t.Errorf("Logs(%q, %q) did not fail", c.logID, c.token)
		}
		if c.token != "" && !errors.Is(err, cloud.ErrBadLogToken) {
			t.Errorf("Logs(%q, %q): %v, want cloud.ErrBadLogToken (the caller's next_token)", c.logID, c.token, err)
		}
	}
}

func TestBatchLogBounded(t *testing.T) {
	b, rec := newBatch(t, BatchOptions{LogLimit: 2000})
	st := final(t, b, rec, submit(t, b, 1, 64, "sh", "-c", `i=0; while [ $i -lt 500 ]; do echo "a line of output $i"; i=$((i+1)); done`))
	msgs := logMessages(t, b, st.LogID)
	size := 0
	for _, m := range msgs {
		size += len(m)
	}
	if size > 2000 || len(msgs) < 20 || !strings.HasPrefix(msgs[len(msgs)-1], "[batchplane: log truncated at 2000 bytes]") || st.Status != "SUCCEEDED" {
		t.Fatalf("log of %d lines, %d bytes, last line %q, %s", len(msgs), size, msgs[len(msgs)-1], st.Status)
	}
}

func TestBatchSubmitIdempotentAndRetriedCallback(t *testing.T) {
	rec := &states{fail: 3}
	b, _ := newBatch(t, BatchOptions{OnState: rec.observe})
	dir := t.TempDir()
	spec := cloud.BatchJobSpec{BatchID: "b2", Index: 0, Attempt: 1, Name: "b2-0-1", CPU: 1, Memory: 64,
		Argv: []string{"sh", "-c", `echo ran >> "$1/runs"`, "sh", dir}}
	first, err := b.Submit(context.Background(), target, spec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.Submit(context.Background(), target, spec)
	if err != nil || again != first {
		t.Fatalf("resubmitted: %q, %v; want %q", again, err, first)
	}
	final(t, b, rec, first)
	if got := rec.statuses(first); !forward(got, "SUCCEEDED") {
		t.Fatalf("states after failing callbacks %v", got)
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, "runs")); string(raw) != "ran\n" {
		t.Fatalf("the job ran %q", raw)
	}
}

// TestBatchLogsShareASegment runs jobs one after another in the same slot
// (one CPU): each log holds only its own job's lines, also when read by a
// new executor after a restart, which no longer knows the jobs.
func TestBatchLogsShareASegment(t *testing.T) {
	dir := t.TempDir()
	b, rec := newBatch(t, BatchOptions{Dir: dir, CPUs: 1})
	want := map[string][]string{}
	var ids []string
	for i := range 3 {
		id := submit(t, b, 1, 64, "sh", "-c", `echo "job $1"; echo "job $1 again" >&2`, "sh", strconv.Itoa(i))
		ids = append(ids, id)
		want[id] = []string{fmt.Sprintf("job %d", i), fmt.Sprintf("job %d again", i)}
	}
	logIDs := map[string]string{}
	for _, id := range ids {
		st := final(t, b, rec, id)
		logIDs[id] = st.LogID
		if got := logMessages(t, b, st.LogID); !slices.Equal(got, want[id]) {
			t.Fatalf("%s: log %q, want %q", id, got, want[id])
		}
	}
	if segs, _ := os.ReadDir(filepath.Join(dir, "logs")); len(segs) != 1 {
		t.Fatalf("%d segments for one slot", len(segs))
	}
	// A next_token is a byte offset the caller can forge: one pointing at
	// another job's records (the same segment) or inside a record reads
	// none of them.
	for _, other := range ids[1:] {
		off := logIDs[other][strings.LastIndex(logIDs[other], ".")+1:]
		n, _ := strconv.Atoi(off)
		for _, tok := range []string{off, strconv.Itoa(n + 3)} {
			lines, _, err := b.Logs(context.Background(), target, logIDs[ids[0]], tok, 100)
			if err != nil || len(lines) != 0 {
				t.Fatalf("%s's log from %s's offset %s: %v, %v; want nothing", ids[0], other, tok, lines, err)
			}
		}
	}
	b.Close()
	again, _ := newBatch(t, BatchOptions{Dir: dir})
	for _, id := range ids {
		if got := logMessages(t, again, logIDs[id]); !slices.Equal(got, want[id]) {
			t.Fatalf("after a restart, %s: log %q", id, got)
		}
	}
	if d, _ := again.Describe(context.Background(), target, ids); len(d) != 0 {
		t.Fatalf("a restarted executor describes %d old jobs", len(d))
	}
}

// TestBatchClose: stopping the executor ends its running and queued jobs,
// reported FAILED, with no process left; it then refuses new jobs.
func TestBatchClose(t *testing.T) {
	b, rec := newBatch(t, BatchOptions{CPUs: 1})
	running := submit(t, b, 1, 64, "sh", "-c", "sleep 1000 & wait")
	waiting := submit(t, b, 1, 64, "sleep", "1000")
	eventually(t, "the job runs", func() bool { return len(jobProcesses(t, running)) == 2 })
	b.Close()
	if left := jobProcesses(t, running); len(left) != 0 {
		t.Fatalf("processes left after Close: %v", left)
	}
	for _, id := range []string{running, waiting} {
		s := rec.statuses(id)
		if len(s) == 0 || s[len(s)-1] != "FAILED" {
			t.Fatalf("%s: states %v", id, s)
		}
		rec.mu.Lock()
		last := rec.byID[id][len(rec.byID[id])-1]
		rec.mu.Unlock()
		if last.Reason != stoppedReason {
			t.Fatalf("%s: reason %q", id, last.Reason)
		}
	}
	if _, err := b.Submit(context.Background(), target, cloud.BatchJobSpec{Name: "late", Argv: []string{"true"}}); err == nil {
		t.Fatal("a closed executor took a job")
	}
}

// TestBatchStatesCoalesce: while the callback is blocked, a job's later
// states replace its undelivered ones, and the last one delivered carries
// every fact (start time, log id).
func TestBatchStatesCoalesce(t *testing.T) {
	gate := make(chan struct{})
	rec := &states{}
	b, _ := newBatch(t, BatchOptions{OnState: func(ctx context.Context, st cloud.BatchJobState) error {
		<-gate
		return rec.observe(ctx, st)
	}})
	ids := []string{submit(t, b, 1, 128, "true"), submit(t, b, 1, 128, "sh", "-c", "exit 2")}
	for _, id := range ids {
		eventually(t, id+" ends", func() bool {
			d, _ := b.Describe(context.Background(), target, []string{id})
			return len(d) == 1 && isFinal(d[0].Status)
		})
	}
	close(gate)
	for i, id := range ids {
		want := []string{"SUCCEEDED", "FAILED"}[i]
		eventually(t, id+" delivered", func() bool { s := rec.statuses(id); return len(s) > 0 && isFinal(s[len(s)-1]) })
		got := rec.statuses(id)
		rec.mu.Lock()
		last := rec.byID[id][len(rec.byID[id])-1]
		rec.mu.Unlock()
		// At most the state being delivered when the gate held, then the final one.
		if !forward(got, want) || len(got) > 2 || last.StartedAt == nil || last.LogID == "" {
			t.Fatalf("%s: states %v, last %+v", id, got, last)
		}
	}
}
