package deliver

import (
	"context"
	"log/slog"
	"sync"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/webhooks"
)

var _ webhooks.Queue = (*LocalQueue)(nil)

// LocalQueue is the in-process delivery queue of make run: a bounded
// channel drained by a few goroutines that each run a job's attempts to
// the end. It is not durable (a restart drops what is queued); AWS uses SQS
// with a dead-letter queue instead.
type LocalQueue struct {
	jobs   chan webhooks.Job
	worker *Worker
	wg     sync.WaitGroup
}

// NewLocalQueue returns a queue holding up to size jobs.
func NewLocalQueue(w *Worker, size int) *LocalQueue {
	return &LocalQueue{jobs: make(chan webhooks.Job, size), worker: w}
}

// Enqueue implements webhooks.Queue; a full queue is errs.Unavailable
// rather than a publisher blocked behind a slow receiver.
func (q *LocalQueue) Enqueue(ctx context.Context, j webhooks.Job) error {
	select {
	case q.jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	default:
		return errs.E(errs.Unavailable, "The webhook delivery queue is full.")
	}
}

// Run drains the queue with n goroutines until ctx ends, then waits for
// them.
func (q *LocalQueue) Run(ctx context.Context, n int) {
	for range n {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-q.jobs:
					if err := q.worker.Deliver(ctx, j); err != nil {
						slog.WarnContext(ctx, "webhook delivery", "webhook", j.WebhookID, "message", j.MessageID, "err", err)
					}
				}
			}
		}()
	}
	q.wg.Wait()
}
