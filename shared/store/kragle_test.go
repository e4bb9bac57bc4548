package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/kragle"
	"github.com/batchplane/batchplane/shared/schedules"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

// TestKragleClaimFiringOnce: of ten schedulers claiming one firing at
// once (two make runs, or one restarted mid-pass), exactly one wins; the
// due index then holds the next fire only; the references (the stack's
// IsScheduled, the schedule's use) follow the job, and a job delete
// racing a claim cannot leave the due item behind.
func TestKragleClaimFiringOnce(t *testing.T) {
	st := storetest.New(t)
	_, admin := storetest.Admin(t, st)
	ctx := context.Background()
	acc, err := accounts.NewService(st, st).Create(admin, accounts.Input{Name: ptr("a"), BaseRegion: ptr("us-east-1"),
		RoleArn: ptr("arn:aws:iam::123456789012:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	stack := jobs.Job{ID: "W-0000000A", Number: 1, Name: "s", App: jobs.AppASG, AccountID: acc.ID}
	if err := st.CreateJob(ctx, stack); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 1, 0, 0, time.UTC)
	period := int64(60)
	if err := st.CreateSchedule(ctx, kragle.Schedule{ID: 7, Config: kragleConfig(period), ConfigAt: at.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	j := kragle.Job{ID: 3, StackID: stack.ID, StackNumber: 1, ScheduleID: 7, Enabled: true, NextFire: at}
	if err := st.CreateKragleJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetJob(ctx, stack.ID); !got.IsScheduled {
		t.Error("stack not IsScheduled")
	}
	if id, err := st.StackOfNumber(ctx, 1); err != nil || id != stack.ID {
		t.Errorf("stack 1 = %q, %v", id, err)
	}
	if err := st.DeleteSchedule(ctx, 7); !errs.Is(err, errs.Conflict) {
		t.Errorf("delete a schedule in use: %v, want Conflict", err)
	}
	if err := st.DeleteJob(ctx, stack); !errs.Is(err, errs.Conflict) {
		t.Errorf("delete a scheduled stack: %v, want Conflict", err)
	}
	if due, err := st.Due(ctx, at.Add(-time.Second)); err != nil || len(due) != 0 {
		t.Fatalf("due before its time: %v %v", due, err)
	}
	due, err := st.Due(ctx, at)
	if err != nil || len(due) != 1 || due[0].JobID != 3 || !due[0].At.Equal(at) {
		t.Fatalf("due at its time: %v %v", due, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := st.ClaimFiring(ctx, j, at.Add(time.Minute), true)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				wins++
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d claims won, want 1", wins)
	}
	due, _ = st.Due(ctx, at.Add(time.Hour))
	if len(due) != 1 || !due[0].At.Equal(at.Add(time.Minute)) {
		t.Fatalf("due index after the claim: %v", due)
	}
	// A delete with the job as it was before the claim loses.
	if err := st.DeleteKragleJob(ctx, j); err == nil {
		t.Fatal("a stale delete succeeded")
	}
	cur, err := st.GetKragleJob(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteKragleJob(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if due, _ = st.Due(ctx, at.Add(time.Hour)); len(due) != 0 {
		t.Errorf("due item left behind: %v", due)
	}
	if got, _ := st.GetJob(ctx, stack.ID); got.IsScheduled {
		t.Error("stack still IsScheduled")
	}
	if err := st.DeleteSchedule(ctx, 7); err != nil {
		t.Errorf("delete an unused schedule: %v", err)
	}
}

func kragleConfig(period int64) schedules.Config { return schedules.Config{Period: &period} }
