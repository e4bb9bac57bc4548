package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

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

// bind hands the built service to the executor and the kicker, and kicks
// every batch a previous make run left unfinished.
func (br *batchRuntime) bind(ctx context.Context, s BatchService) (int, error) {
	br.svc.Store(&s)
	n, err := s.Sweep(ctx, resumeLimit)
	if err != nil {
		return 0, fmt.Errorf("resume batches: %w", err)
	}
	return n, nil
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
