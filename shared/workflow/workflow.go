// Package workflow holds the tasks the run state machine
// (infra/statemachines/run.asl.json) calls, and the event-driven upkeep of
// running runs: EC2 state changes and spot interruption warnings (from
// EventBridge in AWS, from the local cloud on a laptop) and a slow safety
// sweep both call Reconcile. Every task is idempotent: instance launches
// carry ClientTokens derived from run and step, log lines are written once
// per key, and run updates are versioned.
package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/runs"
)

// Workflow runs the tasks.
type Workflow struct {
	Runs       runs.Store
	Jobs       jobs.Store
	Accounts   accounts.Store
	Cloud      cloud.Cloud
	Catalog    runs.Catalog
	Executions runs.Executions
	Now        func() time.Time
}

// TransientError marks a failure worth retrying (the state machine's Retry
// matches its name, "TransientError").
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

func (w *Workflow) now() time.Time { return w.Now().UTC().Truncate(time.Millisecond) }

func (w *Workflow) log(ctx context.Context, runID, key, severity, format string, args ...any) {
	_ = w.Runs.AppendLog(ctx, runID, key, runs.LogLine{Time: w.now(), Message: fmt.Sprintf(format, args...), Severity: severity})
}

// update applies f to the run and writes it, re-reading on conflicts.
func (w *Workflow) update(ctx context.Context, id string, f func(r *runs.Run) bool) (runs.Run, error) {
	for range 8 {
		r, err := w.Runs.GetRun(ctx, id)
		if err != nil {
			return runs.Run{}, err
		}
		if !f(&r) {
			return r, nil
		}
		err = w.Runs.UpdateRun(ctx, &r)
		if err == nil {
			return r, nil
		}
		if !errs.Is(err, errs.Conflict) {
			return runs.Run{}, err
		}
	}
	return runs.Run{}, &TransientError{Err: fmt.Errorf("run %s: too many concurrent updates", id)}
}

// token derives a launch ClientToken from run and step (≤ 64 characters).
func token(runID, step string) string {
	t := runID + "-" + step
	if len(t) > 64 {
		t = t[:64]
	}
	return t
}
