package workflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/store"
)

// leases records the lease calls of one reconcile over the real store, and
// reports the run dirty twice so that reconcile makes all three passes.
type leases struct {
	*store.Store
	holders []string
	until   []time.Time
	dirty   int
}

func (l *leases) LeaseRun(ctx context.Context, runID, holder string, now, until time.Time) (bool, error) {
	l.holders, l.until = append(l.holders, holder), append(l.until, until)
	return l.Store.LeaseRun(ctx, runID, holder, now, until)
}

func (l *leases) TakeDirty(ctx context.Context, runID string) (bool, error) {
	l.dirty++
	return l.dirty <= 2, nil
}

// TestReconcileRenewsItsLease (issue 7 finding 11): each of a reconcile's
// passes renews the run's lease for a whole lease time, by the same holder,
// so a slow pass cannot leave the next one running on an expired lease.
func TestReconcileRenewsItsLease(t *testing.T) {
	h := newHarness(t)
	r := h.start(t, jobs.AppAMI, jobs.Input{Name: ptr("lease"), AmiID: ptr("ami-0123456789abcdef0"), InstanceType: ptr("t3.micro"),
		DesiredInstanceCount: ptr(1)})
	l := &leases{Store: h.st}
	clock := time.Now()
	wf := *h.wf
	wf.Runs = l
	wf.Now = func() time.Time { clock = clock.Add(10 * time.Second); return clock } // each pass is slow
	if err := wf.Reconcile(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	if len(l.holders) != 3 {
		t.Fatalf("%d lease calls for 3 passes, want 3", len(l.holders))
	}
	for i := 1; i < 3; i++ {
		if l.holders[i] != l.holders[0] || !l.until[i].After(l.until[i-1]) {
			t.Fatalf("pass %d: lease by %s until %v after %s until %v", i, l.holders[i], l.until[i], l.holders[0], l.until[i-1])
		}
	}
}
