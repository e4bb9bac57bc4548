package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/batchplane/batchplane/shared/batches"
	"github.com/batchplane/batchplane/shared/cloud"
	localcloud "github.com/batchplane/batchplane/shared/cloud/local"
)

// BatchService is what make run needs of the batches service
// (batches.Service): the executor's states go to Observe, kicks to
// Dispatch, and Sweep finds the batches to resume at start-up.
type BatchService interface {
	Observe(ctx context.Context, st cloud.BatchJobState) error
	Dispatch(ctx context.Context, batchID string) (more bool, err error)
	Sweep(ctx context.Context, limit int) (int, error)
}

// resumeLimit bounds the batches one sweep looks at.
const resumeLimit = 1000

// errBatchesNotReady is what the executor's callback answers before the
// service is built; the executor retries.
var errBatchesNotReady = errors.New("batches service not built yet")

// batchRuntime is the local executor and the kicker, bound to the
// service once it is built (both are its dependencies, so they exist
// first).
type batchRuntime struct {
	exec   *localcloud.Batch
	kicker *Kicker
	svc    atomic.Pointer[BatchService]
	// tmp is the executor's directory when the runtime made it (no
	// BatchDir given) and removes it at Close.
	tmp string
}

// newBatchRuntime builds the executor in dir ("" = a temporary directory)
// and a two-worker kicker.
func newBatchRuntime(ctx context.Context, dir string) (*batchRuntime, error) {
	br := &batchRuntime{}
	if dir == "" {
		d, err := os.MkdirTemp("", "batchplane-batch-*")
		if err != nil {
			return nil, err
		}
		dir, br.tmp = d, d
	}
	ex, err := localcloud.NewBatch(localcloud.BatchOptions{Dir: dir, OnState: br.observe})
	if err != nil {
		return nil, fmt.Errorf("local batch executor: %w", err)
	}
	br.exec = ex
	br.kicker = NewKicker(ctx, 2, func() Dispatcher { return br.dispatcher() })
	return br, nil
}

func (br *batchRuntime) observe(ctx context.Context, st cloud.BatchJobState) error {
	s := br.svc.Load()
	if s == nil {
		return errBatchesNotReady
	}
	return (*s).Observe(ctx, st)
}

// notReady answers kicks that come before the service (none should).
type notReady struct{}

func (notReady) Dispatch(context.Context, string) (bool, error) { return false, errBatchesNotReady }

func (br *batchRuntime) dispatcher() Dispatcher {
	if s := br.svc.Load(); s != nil {
		return *s
	}
	return notReady{}
}

// bind hands the built service to the executor and the kicker, fails the
// jobs a previous make run lost, and kicks every batch it left unfinished.
func (br *batchRuntime) bind(ctx context.Context, svc *batches.Service) (int, error) {
	var s BatchService = svc
	br.svc.Store(&s)
	if err := br.failLost(ctx, svc, time.Now()); err != nil {
		return 0, fmt.Errorf("resume batches: %w", err)
	}
	n, err := s.Sweep(ctx, resumeLimit)
	if err != nil {
		return 0, fmt.Errorf("resume batches: %w", err)
	}
	return n, nil
}

// lostReason is the reason of a job a previous make run lost.
const lostReason = "lost: make run stopped while the job was queued or running"

// failLost ends the jobs a previous make run handed to its executor and
// never saw end (it was killed before its executor could report them): a
// dispatched job this executor does not know (Describe leaves it out) is
// lost, and FAILED (POST /batches/{id}/retry reruns it) rather than
// counted as in flight forever. Jobs dispatched meanwhile by this run are
// known, so they are left alone. A job whose submission was never
// recorded has no external id; the dispatch resubmits it by its Name.
func (br *batchRuntime) failLost(ctx context.Context, svc *batches.Service, now time.Time) error {
	bs, _, err := svc.Store.ScanBatches(ctx, time.Time{}, time.Time{}, resumeLimit)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.State != batches.Active || b.Counts.InFlight() <= 0 {
			continue
		}
		for after := -1; ; {
			js, err := svc.Store.JobsAfter(ctx, b.ID, after, batches.DispatchChunk, false)
			if err != nil {
				return err
			}
			var ids []string
			for _, j := range js {
				ids = append(ids, j.ExternalID)
			}
			known, err := br.exec.Describe(ctx, cloud.Target{}, ids)
			if err != nil {
				return err
			}
			live := map[string]bool{}
			for _, k := range known {
				live[k.ExternalID] = true
			}
			for _, j := range js {
				if j.ExternalID == "" || j.Status.Final() || live[j.ExternalID] {
					continue
				}
				st := cloud.BatchJobState{BatchID: b.ID, Index: j.Index, Attempt: j.Attempt, ExternalID: j.ExternalID,
					Status: string(batches.Failed), Reason: lostReason, At: now}
				if err := svc.Observe(ctx, st); err != nil {
					return err
				}
			}
			if len(js) < batches.DispatchChunk {
				break
			}
			after = js[len(js)-1].Index
		}
	}
	return nil
}

// sweep kicks the batches that need a dispatch no event will ask for.
func (br *batchRuntime) sweep(ctx context.Context) {
	s := br.svc.Load()
	if s == nil {
		return
	}
	if _, err := (*s).Sweep(ctx, resumeLimit); err != nil && ctx.Err() == nil {
		slog.Warn("batches sweep", "err", err)
	}
}

// close stops the kicker, then the executor (which reports what it ends).
func (br *batchRuntime) close() {
	br.kicker.Close()
	br.exec.Close()
	if br.tmp != "" {
		_ = os.RemoveAll(br.tmp)
	}
}

var (
	_ BatchService   = (*batches.Service)(nil)
	_ batches.Kicker = (*Kicker)(nil)
)
