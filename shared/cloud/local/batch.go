package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

var _ cloud.Batch = (*Batch)(nil)

// BatchOptions configure the local batch executor.
type BatchOptions struct {
	// Dir keeps the jobs' logs (Dir/logs) and their temporary directories
	// (Dir/tmp); make run uses .local/batch. Required.
	Dir string
	// OnState receives every state of every job, in order per job; a
	// failing call is retried with backoff (the service's Observe).
	OnState func(context.Context, cloud.BatchJobState) error
	// CPUs is the machine's CPU budget (0 = runtime.NumCPU()).
	CPUs int
	// LogLimit bounds one job's log in bytes (0 = 1 MiB).
	LogLimit int64
	// KillGrace is how long a cancelled job has between SIGTERM and
	// SIGKILL (0 = 2s).
	KillGrace time.Duration
	// Limiter is how the requested memory is enforced: LimitAuto (the
	// default) picks prlimit or the shell's ulimit, whichever exists.
	Limiter MemoryLimiter
	Now     func() time.Time
}

// job is the executor's record of one submitted job attempt.
type job struct {
	state cloud.BatchJobState
	spec  cloud.BatchJobSpec
	cpu   float64
	// cancel is set when a cancellation asked for the job's end; reason
	// then replaces the exit status.
	cancelled bool
	cancelMsg string
	pid       int
	done      chan struct{}
}

// Batch is the local batch executor: each job's argv runs as a real
// process in its own process group, at most as many at once as the CPU
// budget allows for the requested cpu, under the requested memory limit,
// its output kept as its log. Its records live in memory: after a restart
// it knows no job (Describe leaves them out) and runs nothing.
type Batch struct {
	o       BatchOptions
	cpus    float64
	limiter MemoryLimiter
	rep     *reporter

	mu      sync.Mutex
	jobs    map[string]*job   // by external id
	byName  map[string]string // spec Name → external id
	queue   []*job            // RUNNABLE, in submission order
	used    float64           // cpu of the running jobs
	running int
	peak    int
	// slots are the free slots (slot.go); epoch names this run's log
	// segments.
	slots   []*slot
	slotSeq int
	segSeq  int
	epoch   string
	closed  bool
	wg      sync.WaitGroup
}

// NewBatch builds the local batch executor.
func NewBatch(o BatchOptions) (*Batch, error) {
	if o.Dir == "" {
		return nil, errors.New("local batch: Dir is required")
	}
	if o.CPUs <= 0 {
		o.CPUs = runtime.NumCPU()
	}
	if o.LogLimit <= 0 {
		o.LogLimit = 1 << 20
	}
	if o.KillGrace <= 0 {
		o.KillGrace = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// Temporary directories left by a previous run (killed jobs) go.
	_ = os.RemoveAll(filepath.Join(o.Dir, "tmp"))
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("local batch: %w", err)
		}
	}
	b := &Batch{o: o, cpus: float64(o.CPUs), limiter: o.Limiter.resolve(), jobs: map[string]*job{}, byName: map[string]string{},
		epoch: strconv.FormatInt(time.Now().UnixMilli(), 16) + randHex(4)}
	b.rep = newReporter(o.OnState, 4)
	return b, nil
}

// Limiter reports how memory limits are enforced on this machine.
func (b *Batch) Limiter() MemoryLimiter { return b.limiter }

// Slots is how many jobs asking for cpu may run at once: the CPU budget
// divided by cpu, at least one.
func (b *Batch) Slots(cpu float64) int {
	cpu = jobCPU(cpu)
	n := int(b.cpus/cpu + 1e-9)
	return max(n, 1)
}

// Peak is the most jobs that ran at once since the executor started.
func (b *Batch) Peak() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// Active is how many jobs are queued or running.
func (b *Batch) Active() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue) + b.running
}

func jobCPU(cpu float64) float64 {
	if cpu <= 0 {
		return 1
	}
	return cpu
}

func (b *Batch) now() time.Time { return b.o.Now().UTC() }

// EnsureTool implements cloud.Batch: locally a tool needs nothing but an
// argv; a missing program fails its jobs with the exec error as reason.
func (b *Batch) EnsureTool(ctx context.Context, t cloud.Target, tool cloud.BatchTool) error {
	if len(tool.Command) == 0 {
		return fmt.Errorf("local batch: tool %s has no command", tool.ToolID)
	}
	return nil
}

// Submit implements cloud.Batch: the job is SUBMITTED then RUNNABLE, and
// starts when the CPU budget allows. A Name already submitted returns its
// job's id.
func (b *Batch) Submit(ctx context.Context, t cloud.Target, spec cloud.BatchJobSpec) (string, error) {
	if spec.Name == "" || len(spec.Argv) == 0 {
		return "", errors.New("local batch: a job needs a Name and an argv")
	}
	if spec.Memory == 0 {
		spec.Memory = spec.Tool.Memory
	}
	if spec.CPU == 0 {
		spec.CPU = spec.Tool.CPU
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return "", errors.New("local batch: closed")
	}
	if id, ok := b.byName[spec.Name]; ok {
		return id, nil
	}
	id := "lb-" + randHex(20)
	now := b.now()
	j := &job{spec: spec, cpu: jobCPU(spec.CPU), done: make(chan struct{}),
		state: cloud.BatchJobState{BatchID: spec.BatchID, Index: spec.Index, Attempt: spec.Attempt,
			ExternalID: id, Status: "SUBMITTED", At: now}}
	b.jobs[id], b.byName[spec.Name] = j, id
	b.setLocked(j, "SUBMITTED", "")
	b.setLocked(j, "RUNNABLE", "")
	b.queue = append(b.queue, j)
	b.scheduleLocked()
	return id, nil
}

// setLocked moves a job to status and reports it.
func (b *Batch) setLocked(j *job, status, reason string) {
	j.state.Status, j.state.Reason, j.state.At = status, reason, b.now()
	b.rep.report(j.state)
}

// scheduleLocked starts queued jobs, oldest first, while the CPU budget
// allows; a job asking for more than the machine runs alone. The head of
// the queue waits for room rather than being overtaken, so a big job is
// not starved by small ones.
func (b *Batch) scheduleLocked() {
	for len(b.queue) > 0 && !b.closed {
		j := b.queue[0]
		if b.running > 0 && b.used+j.cpu > b.cpus+1e-9 {
			return
		}
		b.queue = b.queue[1:]
		b.used += j.cpu
		b.running++
		b.peak = max(b.peak, b.running)
		b.setLocked(j, "STARTING", "")
		b.wg.Add(1)
		go b.run(j)
	}
}

// finish records a job's end, frees its CPU and starts what now fits.
func (b *Batch) finish(j *job, started *time.Time, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= j.cpu
	b.running--
	j.pid = 0
	j.state.StartedAt = started
	switch {
	case j.cancelled:
		b.setLocked(j, "FAILED", j.cancelMsg)
	case err == nil:
		b.setLocked(j, "SUCCEEDED", "")
	default:
		b.setLocked(j, "FAILED", b.limiter.reason(err, j.spec.Memory))
	}
	// An ended job keeps its state and Name; its argv and args go.
	j.spec = cloud.BatchJobSpec{Name: j.spec.Name}
	close(j.done)
	b.scheduleLocked()
}

// Cancel implements cloud.Batch: a queued job is dropped and a running
// one's process group gets SIGTERM, then SIGKILL after the grace; both end
// FAILED with reason (default "cancelled"). It returns once every
// cancelled process group is gone.
func (b *Batch) Cancel(ctx context.Context, t cloud.Target, externalIDs []string, reason string) error {
	if reason == "" {
		reason = "cancelled"
	}
	var wait []*job
	b.mu.Lock()
	for _, id := range externalIDs {
		j, ok := b.jobs[id]
		if !ok || isFinal(j.state.Status) || j.cancelled {
			if ok && j.cancelled {
				wait = append(wait, j)
			}
			continue
		}
		j.cancelled, j.cancelMsg = true, reason
		if i := queued(b.queue, j); i >= 0 {
			b.queue = append(b.queue[:i:i], b.queue[i+1:]...)
			b.setLocked(j, "FAILED", reason)
			close(j.done)
			continue
		}
		wait = append(wait, j)
		b.signalLocked(j)
	}
	b.mu.Unlock()
	for _, j := range wait {
		select {
		case <-j.done:
		case <-ctx.Done():
			return fmt.Errorf("cancel %s: %w", j.state.ExternalID, ctx.Err())
		}
	}
	return nil
}

// signalLocked sends SIGTERM to a running job's group and arms SIGKILL.
func (b *Batch) signalLocked(j *job) {
	if j.pid == 0 { // starting: run sees cancelled before it execs
		return
	}
	pid := j.pid
	_ = killGroup(pid, false)
	go func() {
		select {
		case <-j.done:
		case <-time.After(b.o.KillGrace):
			_ = killGroup(pid, true)
		}
	}()
}

func queued(q []*job, j *job) int {
	for i, x := range q {
		if x == j {
			return i
		}
	}
	return -1
}

func isFinal(status string) bool { return status == "SUCCEEDED" || status == "FAILED" }

// Describe implements cloud.Batch from the executor's records; ids it does
// not know (say, from before a restart) are left out.
func (b *Batch) Describe(ctx context.Context, t cloud.Target, externalIDs []string) ([]cloud.BatchJobState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []cloud.BatchJobState
	for _, id := range externalIDs {
		if j, ok := b.jobs[id]; ok {
			out = append(out, j.state)
		}
	}
	return out, nil
}

// stoppedReason is the reason of the jobs Close ends.
const stoppedReason = "local executor stopped"

// Close kills every running job and drops the queue, reporting them all
// FAILED (stoppedReason: POST /batches/{id}/retry reruns them), then stops
// reporting once the queued states are delivered (at most drainWait).
// States it could not deliver are lost; after a restart the executor no
// longer knows those jobs, and Describe leaves them out.
func (b *Batch) Close() {
	b.mu.Lock()
	b.closed = true
	for _, j := range b.queue {
		j.cancelled, j.cancelMsg = true, stoppedReason
		b.setLocked(j, "FAILED", stoppedReason)
		close(j.done)
	}
	b.queue = nil
	for _, j := range b.jobs {
		if j.pid != 0 {
			j.cancelled, j.cancelMsg = true, stoppedReason
			_ = killGroup(j.pid, true)
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
	b.closeSlots()
	b.rep.close()
}
