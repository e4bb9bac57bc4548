package workflow

import (
	"context"
	"fmt"
	"strings"
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
	now := w.now()
	ok, err := w.Runs.LeaseRun(ctx, runID, holder, now, now.Add(leaseTime))
	if err != nil {
		return err
	}
	if !ok {
		return w.Runs.MarkDirty(ctx, runID)
	}
	defer func() { _ = w.Runs.ReleaseRun(context.WithoutCancel(ctx), runID, holder) }()
	for range 3 {
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

func (w *Workflow) reconcile(ctx context.Context, runID string) error {
	r, err := w.Runs.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	if r.Status != runs.StatusProcessing || r.StopRequested {
		return nil
	}
	j, err := w.Jobs.GetJob(ctx, r.JobID)
	if err != nil {
		return err
	}
	if j.ASG != nil && j.ASG.StandBy {
		return nil
	}
	t, err := runs.Target(ctx, w.Accounts, r.AccountID, r.Region)
	if err != nil {
		return err
	}
	recs, err := w.Runs.ListInstances(ctx, r.ID)
	if err != nil {
		return err
	}
	// Refresh from the cloud: repairs runs whose events were lost.
	live, err := w.Cloud.Compute.DescribeRun(ctx, t, r.ID)
	if err != nil {
		return fmt.Errorf("describe run: %w", err)
	}
	byID := map[string]cloud.Instance{}
	for _, in := range live {
		byID[in.ID] = in
	}
	now := w.now()
	replaceUnhealthy := (j.ASG != nil && j.ASG.ReplaceUnhealthyInstances) || (j.AMI != nil && j.AMI.ReplaceUnhealthyInstances)
	p, err := w.plan(ctx, r, j, t)
	if err != nil {
		return err
	}
	// An instance is not judged unhealthy before its health check grace
	// period (the group's for an ASG job, the job's for an AMI job) has
	// passed: a booting application is not a failing one.
	var grace time.Duration
	switch {
	case p.group != nil:
		grace = time.Duration(p.group.HealthCheckGracePeriod) * time.Second
	case j.AMI != nil:
		grace = time.Duration(j.AMI.HealthCheckGracePeriod) * time.Second
	}
	var alive, lost []runs.Instance
	aliveOD := 0
	for i := range recs {
		rec := &recs[i]
		if l, ok := byID[rec.InstanceID]; ok {
			if l.State != rec.State {
				if _, err := w.Runs.ApplyInstanceEvent(ctx, r.ID, rec.InstanceID, l.State, false, now); err != nil {
					return err
				}
				rec.State = l.State
			}
			rec.Healthy = l.Healthy
		} else if rec.State != cloud.StateTerminated {
			if _, err := w.Runs.ApplyInstanceEvent(ctx, r.ID, rec.InstanceID, cloud.StateTerminated, false, now); err != nil {
				return err
			}
			rec.State = cloud.StateTerminated
		}
		switch {
		case rec.ReplacedBy != "":
		case rec.Alive() && (rec.Healthy || !replaceUnhealthy || now.Sub(rec.LaunchTime) < grace):
			alive = append(alive, *rec)
			if !rec.Spot {
				aliveOD++
			}
		default:
			lost = append(lost, *rec)
		}
	}
	spec := p.spec
	for _, old := range lost {
		if len(alive) >= r.Desired {
			break
		}
		market := cloud.Spot
		if aliveOD < r.MinOnDemand {
			market = cloud.OnDemand
		}
		in, err := w.launchOne(ctx, r, t, spec, market, "r-"+old.InstanceID)
		if err != nil {
			return err
		}
		if err := w.register(ctx, r, j, t, []string{in.ID}, "r-"+old.InstanceID); err != nil {
			return err
		}
		why := "was lost"
		switch {
		case old.Interrupted:
			why = "was interrupted (spot)"
		case old.Alive() && !old.Healthy:
			why = "is unhealthy"
		}
		// Out of the load balancers before it goes (an interrupted spot
		// instance drains during its two-minute warning).
		if err := w.deregister(ctx, j, t, []string{old.InstanceID}); err != nil {
			return err
		}
		if old.Alive() && !old.Healthy && !old.Interrupted {
			if err := w.Cloud.Compute.Terminate(ctx, t, []string{old.InstanceID}); err != nil {
				return fmt.Errorf("terminate unhealthy: %w", err)
			}
		}
		if p.group != nil {
			if err := w.attachReplacement(ctx, t, p.group.Name, in.ID); err != nil {
				return err
			}
		}
		// Marked last: a reconcile that fails before here does it all again
		// (the launch is idempotent by its ClientToken).
		if _, err := w.Runs.MarkReplaced(ctx, r.ID, old.InstanceID, in.ID); err != nil {
			return err
		}
		w.log(ctx, r.ID, "replace-"+old.InstanceID, runs.Warning, "Instance %s %s; replaced by %s (%s)", old.InstanceID, why, in.ID, marketName(in.Market))
		alive = append(alive, record(in, now))
		if in.Market == cloud.OnDemand {
			aliveOD++
		}
	}
	if j.AMI != nil {
		return w.scale(ctx, r, j, t, spec, alive)
	}
	return nil
}

// scale applies an AMI job's CPU policies: above a ScaleUp threshold add
// ScaleFactor instances (up to MaxInstanceCount), below a ScaleDown
// threshold remove them (down to MinInstanceCount), spot first.
func (w *Workflow) scale(ctx context.Context, r runs.Run, j jobs.Job, t cloud.Target, spec cloud.LaunchSpec, alive []runs.Instance) error {
	if w.Cloud.Metrics == nil || len(alive) == 0 {
		return nil
	}
	ids := make([]string, len(alive))
	for i, in := range alive {
		ids[i] = in.InstanceID
	}
	now := w.now()
	for _, p := range j.AMI.ScalingPolicies {
		if !strings.EqualFold(p.MetricName, "CPUUtilization") || p.Period <= 0 {
			continue
		}
		window := time.Duration(p.Period*max(p.EvaluationPeriods, 1)) * time.Second
		avg, ok, err := w.Cloud.Metrics.AverageCPU(ctx, t, ids, now.Add(-window), now)
		if err != nil || !ok {
			continue
		}
		n := max(int(p.ScaleFactor), 1)
		switch {
		case p.ScaleType == jobs.ScaleUp && avg > p.ScaleAt && r.Desired < j.AMI.MaxInstanceCount:
			n = min(n, j.AMI.MaxInstanceCount-r.Desired)
			return w.resize(ctx, r, j, t, spec, r.Desired+n, alive, avg)
		case p.ScaleType == jobs.ScaleDown && avg < p.ScaleAt && r.Desired > j.AMI.MinInstanceCount:
			n = min(n, r.Desired-j.AMI.MinInstanceCount)
			return w.resize(ctx, r, j, t, spec, r.Desired-n, alive, avg)
		}
	}
	return nil
}

func (w *Workflow) resize(ctx context.Context, r runs.Run, j jobs.Job, t cloud.Target, spec cloud.LaunchSpec, desired int, alive []runs.Instance, avg float64) error {
	from := r.Desired
	r, err := w.update(ctx, r.ID, func(run *runs.Run) bool {
		if run.Desired != from {
			return false
		}
		run.Desired = desired
		return true
	})
	if err != nil || r.Desired != desired {
		return err
	}
	key := fmt.Sprintf("scale-%d-%d", from, desired)
	if desired > from {
		w.log(ctx, r.ID, key, runs.Info, "Average CPU %.1f%%: scaling up from %d to %d instances", avg, from, desired)
		for i := from; i < desired; i++ {
			in, err := w.launchOne(ctx, r, t, spec, cloud.Spot, fmt.Sprintf("up%d", i))
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
	// Remove spot first, keeping MinOnDemand on-demand.
	var victims []string
	for _, want := range []bool{true, false} {
		for i := len(alive) - 1; i >= 0 && len(victims) < from-desired; i-- {
			if alive[i].Spot == want {
				victims = append(victims, alive[i].InstanceID)
			}
		}
	}
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
