package local

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Dispatcher moves a batch on by one bounded step (batches.Service's
// Dispatch): more says to call again.
type Dispatcher interface {
	Dispatch(ctx context.Context, batchID string) (more bool, err error)
}

// kickRetries bounds how often a failing dispatch is retried before the
// batch is left to the sweep, which kicks it again.
const kickRetries = 5

// Kicker is make run's batches.Kicker: a few workers that call Dispatch for
// each kicked batch until it says no more. A batch kicked while queued is
// queued once; kicked while being dispatched, it is dispatched once more
// afterwards (the kick may carry news the running dispatch read too
// early). Kick never blocks the caller (Observe kicks from the executor's
// callback).
type Kicker struct {
	mu      sync.Mutex
	d       func() Dispatcher
	queue   []string
	queued  map[string]bool
	active  map[string]bool
	again   map[string]bool
	wake    chan struct{}
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
	backoff time.Duration
	step    time.Duration
}

// NewKicker starts workers dispatching through d, which is read when a
// kick is served (the service is built after its Kicker).
func NewKicker(ctx context.Context, workers int, d func() Dispatcher) *Kicker {
	ctx, stop := context.WithCancel(ctx)
	k := &Kicker{d: d, queued: map[string]bool{}, active: map[string]bool{}, again: map[string]bool{},
		wake: make(chan struct{}, 1), ctx: ctx, stop: stop, backoff: 200 * time.Millisecond, step: 10 * time.Millisecond}
	for range max(workers, 1) {
		k.wg.Add(1)
		go k.loop()
	}
	return k
}

// Kick implements batches.Kicker.
func (k *Kicker) Kick(ctx context.Context, batchID string) error {
	k.mu.Lock()
	switch {
	case k.active[batchID]:
		k.again[batchID] = true
	case !k.queued[batchID]:
		k.queued[batchID] = true
		k.queue = append(k.queue, batchID)
	}
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
	return nil
}

// next takes the oldest queued batch that no worker is dispatching.
func (k *Kicker) next() (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i, id := range k.queue {
		if k.active[id] {
			continue
		}
		k.queue = append(k.queue[:i:i], k.queue[i+1:]...)
		delete(k.queued, id)
		k.active[id] = true
		if len(k.queue) > 0 {
			select { // another worker may take the rest
			case k.wake <- struct{}{}:
			default:
			}
		}
		return id, true
	}
	return "", false
}

func (k *Kicker) loop() {
	defer k.wg.Done()
	for k.ctx.Err() == nil {
		id, ok := k.next()
		if !ok {
			select {
			case <-k.wake:
			case <-k.ctx.Done():
			}
			continue
		}
		k.dispatch(id)
		k.mu.Lock()
		delete(k.active, id)
		requeue := k.again[id]
		delete(k.again, id)
		k.mu.Unlock()
		if requeue {
			_ = k.Kick(k.ctx, id)
		}
	}
}

// dispatch calls Dispatch until no more is left, retrying errors a few
// times with a pause (a busy lease or a store hiccup).
func (k *Kicker) dispatch(id string) {
	fails := 0
	for k.ctx.Err() == nil {
		more, err := k.d().Dispatch(k.ctx, id)
		if err != nil {
			if fails++; fails == kickRetries || k.ctx.Err() != nil {
				if k.ctx.Err() == nil {
					slog.Warn("dispatch batch", "batch", id, "err", err)
				}
				return
			}
			more = true
		}
		if !more {
			return
		}
		// A pause between steps: a step submits a chunk (far longer than
		// the pause), and a batch leased by a crashed process's dispatcher
		// answers more at once until the lease expires.
		pause := k.step
		if err != nil {
			pause = k.backoff
		}
		select {
		case <-time.After(pause):
		case <-k.ctx.Done():
		}
	}
}

// Close stops the workers (a dispatch in progress is cancelled; the
// batch's next start-up sweep picks it up).
func (k *Kicker) Close() {
	k.stop()
	k.wg.Wait()
}
