package local

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

// reportAttempts bounds the retries of one state: a callback failing
// that long (the store down) leaves the job to the service's sweep, which
// reads Describe.
const reportAttempts = 10

// reporter delivers job states to the callback outside the executor's
// lock: a few workers, each job always on the same one, so one job's
// states arrive in order while other jobs' are delivered in parallel (each
// delivery is a DynamoDB transaction in make run). A job's state queued
// behind an undelivered one replaces it: a job's states only move forward
// and each carries all the job's facts so far (start time, log id), so
// when the callback falls behind (trivial jobs end faster than their
// transitions are written) it gets the latest state once instead of
// every step late.
type reporter struct {
	fn      func(context.Context, cloud.BatchJobState) error
	ctx     context.Context
	cancel  context.CancelFunc
	workers []*reportQueue
	wg      sync.WaitGroup
}

type reportQueue struct {
	mu      sync.Mutex
	q       []*cloud.BatchJobState
	pending map[string]*cloud.BatchJobState // undelivered, by external id
	wake    chan struct{}
	closed  bool
}

func newReporter(fn func(context.Context, cloud.BatchJobState) error, n int) *reporter {
	ctx, cancel := context.WithCancel(context.Background())
	r := &reporter{fn: fn, ctx: ctx, cancel: cancel}
	if fn == nil {
		return r
	}
	for range n {
		w := &reportQueue{wake: make(chan struct{}, 1), pending: map[string]*cloud.BatchJobState{}}
		r.workers = append(r.workers, w)
		r.wg.Add(1)
		go r.loop(w)
	}
	return r
}

// report queues a state; it never blocks.
func (r *reporter) report(s cloud.BatchJobState) {
	if len(r.workers) == 0 {
		return
	}
	h := fnv.New32a()
	h.Write([]byte(s.ExternalID))
	w := r.workers[int(h.Sum32()%uint32(len(r.workers)))]
	w.mu.Lock()
	if r.ctx.Err() == nil {
		if s.StartedAt != nil {
			t := *s.StartedAt
			s.StartedAt = &t
		}
		if p, ok := w.pending[s.ExternalID]; ok {
			*p = s
		} else {
			w.q = append(w.q, &s)
			w.pending[s.ExternalID] = &s
		}
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (r *reporter) loop(w *reportQueue) {
	defer r.wg.Done()
	for {
		w.mu.Lock()
		if len(w.q) == 0 {
			closed := w.closed
			w.mu.Unlock()
			if closed || r.ctx.Err() != nil {
				return
			}
			select {
			case <-w.wake:
			case <-r.ctx.Done():
			}
			continue
		}
		s := *w.q[0]
		w.q[0] = nil
		w.q = w.q[1:]
		delete(w.pending, s.ExternalID)
		w.mu.Unlock()
		if r.ctx.Err() != nil {
			continue
		}
		r.deliver(s)
	}
}

// deliver calls the callback until it succeeds, backing off from 50ms to
// 2s, at most reportAttempts times.
func (r *reporter) deliver(s cloud.BatchJobState) {
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := r.fn(r.ctx, s)
		if err == nil || r.ctx.Err() != nil {
			return
		}
		if attempt == reportAttempts {
			slog.Warn("local batch: state not delivered", "job", s.ExternalID, "status", s.Status, "err", err)
			return
		}
		select {
		case <-time.After(wait):
		case <-r.ctx.Done():
			return
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// drainWait bounds how long close delivers the states still queued.
const drainWait = 5 * time.Second

// close delivers what is queued (for at most drainWait, then drops it) and
// stops the workers.
func (r *reporter) close() {
	for _, w := range r.workers {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainWait):
	}
	r.cancel()
	<-done
}
