package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/runs"
)

// Reconcile keeps a processing run at its desired state: it refreshes its
// instances from the cloud, replaces the lost, interrupted and (with
// ReplaceUnhealthyInstances) unhealthy ones, keeping MinOnDemandInstanceCount
// on-demand, and applies an AMI job's scaling policies. Launches carry
// ClientTokens derived from the instance replaced, so reconciling twice
// launches once.
func (w *Workflow) Reconcile(ctx context.Context, runID string) error {
	// One reconcile of a run at a time, across processes (the events and
	// sweep functions in AWS): an event and the sweep must not both decide
	// the same replacement from stale views. Whoever cannot take the lease
	// marks the run dirty, and the holder reconciles once more.
	holder := uuid.NewString()
	lease := func() (bool, error) {
		now := w.now()
		return w.Runs.LeaseRun(ctx, runID, holder, now, now.Add(leaseTime))
	}
	ok, err := lease()
	if err != nil {
		return err
	}
	if !ok {
		return w.Runs.MarkDirty(ctx, runID)
	}
	defer func() { _ = w.Runs.ReleaseRun(context.WithoutCancel(ctx), runID, holder) }()
	for pass := range 3 {
		// Each pass renews the lease for a whole leaseTime: passes after a
		// slow one must not run on an expired lease that another reconcile
		// may have taken meanwhile. A lease lost that way is left to its
		// new holder, with the dirty mark for the work this one did not do.
		if pass > 0 {
			ok, err := lease()
			if err != nil {
				return err
			}
			if !ok {
				return w.Runs.MarkDirty(ctx, runID)
			}
		}
		if err := w.reconcile(ctx, runID); err != nil {
			return err
		}
		dirty, err := w.Runs.TakeDirty(ctx, runID)
		if err != nil || !dirty {
			return err
		}
	}
	return nil
}

// leaseTime bounds a reconcile; a crashed holder's lease expires after it.
const leaseTime = 30 * time.Second

// runScope is what one reconcile of a run works with.
type runScope struct {
	run    runs.Run
	job    jobs.Job
	target cloud.Target
	plan   plan
}

func (w *Workflow) reconcile(ctx context.Context, runID string) error {
	sc, ok, err := w.scope(ctx, runID)
	if err != nil || !ok {
		return err
	}
	recs, err := w.Runs.ListInstances(ctx, sc.run.ID)
	if err != nil {
		return err
	}
	// Refresh from the cloud: repairs runs whose events were lost.
	live, err := w.Cloud.Compute.DescribeRun(ctx, sc.target, sc.run.ID)
	if err != nil {
		return fmt.Errorf("describe run: %w", err)
	}
	now := w.now()
	act := decide(observed{Records: recs, Live: live, Now: now, Grace: gracePeriod(sc.job, sc.plan.group),
		Desired: sc.run.Desired, MinOnDemand: sc.run.MinOnDemand, ReplaceUnhealthy: replaceUnhealthy(sc.job)})
	for _, c := range act.Refresh {
		if _, err := w.Runs.ApplyInstanceEvent(ctx, sc.run.ID, c.InstanceID, c.State, false, now); err != nil {
			return err
		}
	}
	alive := act.Alive
	for _, rp := range act.Replace {
		in, err := w.replace(ctx, sc, rp)
		if err != nil {
			return err
		}
		alive = append(alive, record(in, now))
	}
	if sc.job.AMI != nil {
		return w.scale(ctx, sc, alive)
	}
	return nil
}

// scope reads what reconciling a run needs; ok is false when the run is not
// to be reconciled (not processing, stopping, or its ASG job in StandBy).
func (w *Workflow) scope(ctx context.Context, runID string) (runScope, bool, error) {
	r, err := w.Runs.GetRun(ctx, runID)
	if err != nil {
		return runScope{}, false, err
	}
	if r.Status != runs.StatusProcessing || r.StopRequested {
		return runScope{}, false, nil
	}
	j, err := w.Jobs.GetJob(ctx, r.JobID)
	if err != nil {
		return runScope{}, false, err
	}
	if j.ASG != nil && j.ASG.StandBy {
		return runScope{}, false, nil
	}
	t, err := runs.Target(ctx, w.Accounts, r.AccountID, r.Region)
	if err != nil {
		return runScope{}, false, err
	}
	p, err := w.plan(ctx, r, j, t)
	if err != nil {
		return runScope{}, false, err
	}
	return runScope{run: r, job: j, target: t, plan: p}, true, nil
}

// replace launches the replacement of one instance, puts it behind the
// job's load balancers (and into an ASG job's group), takes the old one
// out and marks it replaced.
func (w *Workflow) replace(ctx context.Context, sc runScope, rp replacement) (cloud.Instance, error) {
	r, j, t, old := sc.run, sc.job, sc.target, rp.Old
	step := "r-" + old.InstanceID
	in, err := w.launchOne(ctx, r, t, sc.plan.spec, rp.Market, step)
	if err != nil {
		return in, err
	}
	if err := w.register(ctx, r, j, t, []string{in.ID}, step); err != nil {
		return in, err
	}
	// Out of the load balancers before it goes (an interrupted spot
	// instance drains during its two-minute warning).
	if err := w.deregister(ctx, j, t, []string{old.InstanceID}); err != nil {
		return in, err
	}
	if rp.Terminate {
		if err := w.Cloud.Compute.Terminate(ctx, t, []string{old.InstanceID}); err != nil {
			return in, fmt.Errorf("terminate unhealthy: %w", err)
		}
	}
	if g := sc.plan.group; g != nil {
		if err := w.attachReplacement(ctx, t, g.Name, in.ID); err != nil {
			return in, err
		}
	}
	// Marked last: a reconcile that fails before here does it all again
	// (the launch is idempotent by its ClientToken).
	if _, err := w.Runs.MarkReplaced(ctx, r.ID, old.InstanceID, in.ID); err != nil {
		return in, err
	}
	w.log(ctx, r.ID, "replace-"+old.InstanceID, runs.Warning, "Instance %s %s; replaced by %s (%s)", old.InstanceID, rp.Why, in.ID, marketName(in.Market))
	return in, nil
}

// scale applies an AMI job's CPU policies (policyWindow, scaleTo): the
// first that fires resizes the run.
func (w *Workflow) scale(ctx context.Context, sc runScope, alive []runs.Instance) error {
	if w.Cloud.Metrics == nil || len(alive) == 0 {
		return nil
	}
	ids := make([]string, len(alive))
	for i, in := range alive {
		ids[i] = in.InstanceID
	}
	now := w.now()
	a := sc.job.AMI
	for _, p := range a.ScalingPolicies {
		window, ok := policyWindow(p)
		if !ok {
			continue
		}
		avg, ok, err := w.Cloud.Metrics.AverageCPU(ctx, sc.target, ids, now.Add(-window), now)
		if err != nil || !ok {
			continue
		}
		if to, ok := scaleTo(p, avg, sc.run.Desired, a.MinInstanceCount, a.MaxInstanceCount); ok {
			return w.resize(ctx, sc, to, alive, avg)
		}
	}
	return nil
}

// resize sets the run's desired count and launches (spot) or removes
// (scaleInVictims) the difference.
func (w *Workflow) resize(ctx context.Context, sc runScope, desired int, alive []runs.Instance, avg float64) error {
	from := sc.run.Desired
	r, err := w.update(ctx, sc.run.ID, func(run *runs.Run) bool {
		if run.Desired != from {
			return false
		}
		run.Desired = desired
		return true
	})
	if err != nil || r.Desired != desired {
		return err
	}
	j, t := sc.job, sc.target
	key := fmt.Sprintf("scale-%d-%d", from, desired)
	if desired > from {
		w.log(ctx, r.ID, key, runs.Info, "Average CPU %.1f%%: scaling up from %d to %d instances", avg, from, desired)
		for i := from; i < desired; i++ {
			in, err := w.launchOne(ctx, r, t, sc.plan.spec, cloud.Spot, fmt.Sprintf("up%d", i))
			if err != nil {
				return err
			}
			if err := w.register(ctx, r, j, t, []string{in.ID}, fmt.Sprintf("up%d", i)); err != nil {
				return err
			}
		}
		return nil
	}
	w.log(ctx, r.ID, key, runs.Info, "Average CPU %.1f%%: scaling down from %d to %d instances", avg, from, desired)
	victims := scaleInVictims(alive, from-desired)
	if err := w.deregister(ctx, j, t, victims); err != nil {
		return err
	}
	if err := w.Cloud.Compute.Terminate(ctx, t, victims); err != nil {
		return fmt.Errorf("scale down: %w", err)
	}
	for _, id := range victims {
		if _, err := w.Runs.MarkReplaced(ctx, r.ID, id, "scaled-in"); err != nil {
			return err
		}
	}
	return nil
}
