package batches

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

// RefreshBudget bounds the jobs one Refresh describes (100 per
// DescribeJobs call in AWS: 200 calls), so a sweep fits its function's
// timeout whatever the batches' sizes.
const RefreshBudget = 20000

// refreshPage is how many jobs Refresh reads from the store at a time.
const refreshPage = 1000

// Refresh is the safety net for lost job state events: for up to limit
// batches with jobs in flight, it describes their dispatched, unfinished
// jobs (at most RefreshBudget in all) in the executor and observes every
// state that differs from the stored one, exactly as if its event had
// arrived. It returns how many states it observed.
func (s *Service) Refresh(ctx context.Context, limit int) (int, error) {
	bs, _, err := s.Store.ScanBatches(ctx, time.Time{}, time.Time{}, limit)
	if err != nil {
		return 0, err
	}
	budget, observed := RefreshBudget, 0
	var errsOut []error
	for _, b := range bs {
		if b.State == Creating || b.Counts.InFlight() <= 0 || budget <= 0 {
			continue
		}
		n, used, err := s.refreshBatch(ctx, b, budget)
		observed, budget = observed+n, budget-used
		if err != nil {
			errsOut = append(errsOut, fmt.Errorf("refresh batch %s: %w", b.ID, err))
		}
	}
	return observed, errors.Join(errsOut...)
}

// refreshBatch describes up to budget of b's unfinished dispatched jobs
// and observes those whose state moved; used is how many it described.
func (s *Service) refreshBatch(ctx context.Context, b Batch, budget int) (observed, used int, err error) {
	t, err := s.target(ctx, b)
	if err != nil {
		return 0, 0, err
	}
	stored := map[string]Job{}
	var ids []string
	for after := -1; used+len(ids) < budget; {
		js, err := s.Store.JobsAfter(ctx, b.ID, after, refreshPage, false)
		if err != nil {
			return 0, 0, err
		}
		for _, j := range js {
			if j.ExternalID != "" && !j.Status.Final() && len(ids) < budget {
				stored[j.ExternalID] = j
				ids = append(ids, j.ExternalID)
			}
			after = j.Index
		}
		if len(js) < refreshPage {
			break
		}
	}
	states, err := s.Cloud.Describe(ctx, t, ids)
	if err != nil {
		return 0, len(ids), err
	}
	for _, st := range states {
		j, ok := stored[st.ExternalID]
		if !ok || (Status(st.Status) == j.Status && st.Attempt == j.Attempt) {
			continue
		}
		if err := s.Observe(ctx, st); err != nil {
			return observed, len(ids), err
		}
		observed++
	}
	return observed, len(ids), nil
}

// reject fails a job the executor refused as it is (cloud.ErrArgsTooLarge:
// submitting it again would be refused again), with the executor's reason,
// once its dispatch is recorded.
func (s *Service) reject(ctx context.Context, j Job, cause error) error {
	return s.Observe(ctx, cloud.BatchJobState{BatchID: j.BatchID, Index: j.Index, Attempt: j.Attempt,
		Status: string(Failed), Reason: cause.Error(), At: s.now()})
}
