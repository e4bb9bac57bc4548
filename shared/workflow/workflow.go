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
	"errors"
	"fmt"
	"slices"
	"strings"
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

// CreateRun marks the run started.
func (w *Workflow) CreateRun(ctx context.Context, in runs.Input) (runs.Input, error) {
	r, err := w.Runs.GetRun(ctx, in.RunID)
	if err != nil {
		return in, err
	}
	w.log(ctx, r.ID, "started", runs.Info, "Run Started")
	return in, nil
}

// plan is what to launch for a run.
type plan struct {
	spec    cloud.LaunchSpec
	desired int
	group   *cloud.Group
}

func (w *Workflow) plan(ctx context.Context, r runs.Run, j jobs.Job, t cloud.Target) (plan, error) {
	p := plan{spec: cloud.LaunchSpec{RunID: r.ID, JobID: j.ID, Tags: map[string]string{cloud.TagAccount: r.AccountID}}}
	switch {
	case j.ASG != nil:
		g, err := w.Cloud.AutoScaling.GetGroup(ctx, t, j.ASG.AutoScalingGroupName)
		if err != nil {
			return p, fmt.Errorf("auto scaling group %s: %w", j.ASG.AutoScalingGroupName, err)
		}
		p.group = &g
		p.desired = g.DesiredCapacity
		p.spec.InstanceType, p.spec.ImageID, p.spec.KeyName = g.InstanceType, g.ImageID, g.KeyName
		p.spec.SubnetIDs, p.spec.SecurityGroupIDs, p.spec.UserData = g.SubnetIDs, g.SecurityGroupIDs, g.UserData
		p.spec.InstanceProfileArn, p.spec.AssociatePublicIP = g.InstanceProfileArn, g.AssociatePublicIP
	case j.AMI != nil:
		a := j.AMI
		p.desired = a.DesiredInstanceCount
		p.spec.InstanceType, p.spec.ImageID, p.spec.KeyName, p.spec.UserData = a.InstanceType, a.AmiID, a.KeyPair, a.LaunchScript
		p.spec.SubnetIDs, p.spec.SecurityGroupIDs = a.SubnetIDs, a.SecurityGroupIDs
		p.spec.InstanceProfileArn, p.spec.AssociatePublicIP = a.InstanceProfileArn, a.AssociatePublicIPAddress
	default:
		return p, fmt.Errorf("job %s has no app configuration", j.ID)
	}
	return p, nil
}

func minOnDemand(j jobs.Job) int {
	switch {
	case j.ASG != nil:
		return j.ASG.MinOnDemandInstanceCount
	case j.AMI != nil:
		return j.AMI.MinOnDemandInstanceCount
	}
	return 0
}

// takeOverProcesses are the group processes suspended while batchplane
// keeps the group's instances, so the group does not fight it.
var takeOverProcesses = []string{"Launch", "Terminate", "ReplaceUnhealthy", "AZRebalance"}

// scalingProcesses are also suspended with SuspendScalingOperations.
var scalingProcesses = []string{"AlarmNotification", "ScheduledActions"}

// Provision launches the run's instances: spot first, MinOnDemandInstanceCount
// on-demand, on-demand for whatever spot cannot supply. For an ASG job it
// takes over the group: suspends its own launching, attaches the new
// instances and detaches (and terminates) the group's own.
func (w *Workflow) Provision(ctx context.Context, in runs.Input) (runs.Input, error) {
	r, err := w.Runs.GetRun(ctx, in.RunID)
	if err != nil {
		return in, err
	}
	if runs.Finished(r.Status) {
		return in, nil
	}
	j, err := w.Jobs.GetJob(ctx, r.JobID)
	if err != nil {
		return in, err
	}
	t, err := runs.Target(ctx, w.Accounts, r.AccountID, r.Region)
	if err != nil {
		return in, err
	}
	p, err := w.plan(ctx, r, j, t)
	if err != nil {
		return in, err
	}
	od := min(minOnDemand(j), p.desired)
	r, err = w.update(ctx, r.ID, func(r *runs.Run) bool {
		if r.Status != runs.StatusStarting {
			return false
		}
		r.Status, r.Desired, r.MinOnDemand, r.InstanceType = runs.StatusProcessing, p.desired, od, p.spec.InstanceType
		if p.group != nil {
			r.GroupName, r.OriginalDesired, r.OriginalInstances = p.group.Name, p.group.DesiredCapacity, p.group.InstanceIDs
		}
		return true
	})
	if err != nil {
		return in, err
	}
	if p.group != nil {
		procs := takeOverProcesses
		if j.ASG.SuspendScalingOperations {
			procs = append(slices.Clone(procs), scalingProcesses...)
		}
		if err := w.Cloud.AutoScaling.SuspendProcesses(ctx, t, p.group.Name, procs); err != nil {
			return in, fmt.Errorf("suspend %s: %w", p.group.Name, err)
		}
		w.log(ctx, r.ID, "suspend", runs.Info, "Suspended %v on Auto Scaling group %s", procs, p.group.Name)
	}
	launched, err := w.launch(ctx, r, t, p.spec, od, p.desired-od, "prov", j)
	if err != nil {
		return in, err
	}
	if p.group != nil {
		if err := w.takeOver(ctx, r, t, *p.group, launched); err != nil {
			return in, err
		}
	}
	return in, nil
}

func (w *Workflow) takeOver(ctx context.Context, r runs.Run, t cloud.Target, g cloud.Group, launched []cloud.Instance) error {
	ids := make([]string, len(launched))
	for i, in := range launched {
		ids[i] = in.ID
	}
	var own []string
	for _, id := range r.OriginalInstances {
		if !slices.Contains(ids, id) {
			own = append(own, id)
		}
	}
	// Attaching raises desired; like AWS, the group refuses to go past its
	// max size, so make room while the instances are swapped.
	cur, err := w.Cloud.AutoScaling.GetGroup(ctx, t, g.Name)
	if err != nil {
		return fmt.Errorf("group %s: %w", g.Name, err)
	}
	attach := 0
	for _, id := range ids {
		if !slices.Contains(cur.InstanceIDs, id) {
			attach++
		}
	}
	if need := cur.DesiredCapacity + attach; need > cur.MaxSize {
		if err := w.Cloud.AutoScaling.SetMaxSize(ctx, t, g.Name, need); err != nil {
			return fmt.Errorf("raise max size of %s: %w", g.Name, err)
		}
		defer func() {
			if err := w.Cloud.AutoScaling.SetMaxSize(context.WithoutCancel(ctx), t, g.Name, g.MaxSize); err != nil {
				w.log(ctx, r.ID, "restore-max", runs.Warning, "Could not restore max size %d of %s: %v", g.MaxSize, g.Name, err)
			}
		}()
	}
	if attach > 0 {
		if err := w.Cloud.AutoScaling.AttachInstances(ctx, t, g.Name, ids); err != nil {
			return fmt.Errorf("attach to %s: %w", g.Name, err)
		}
	}
	// Detach what is still in the group; terminate all of the group's own
	// (idempotent, so a retried step after a crash finishes the swap).
	var inGroup []string
	for _, id := range own {
		if slices.Contains(cur.InstanceIDs, id) {
			inGroup = append(inGroup, id)
		}
	}
	if len(inGroup) > 0 {
		if err := w.Cloud.AutoScaling.DetachInstances(ctx, t, g.Name, inGroup); err != nil && !errors.Is(err, cloud.ErrNotFound) {
			return fmt.Errorf("detach from %s: %w", g.Name, err)
		}
	}
	if len(own) == 0 {
		return nil
	}
	if err := w.Cloud.Compute.Terminate(ctx, t, own); err != nil {
		return fmt.Errorf("terminate group instances: %w", err)
	}
	w.log(ctx, r.ID, "takeover", runs.Info, "Replaced %d instances of Auto Scaling group %s", len(own), g.Name)
	return nil
}

// launch starts od on-demand and spot spot instances and records them; a
// spot shortage falls back to on-demand.
func (w *Workflow) launch(ctx context.Context, r runs.Run, t cloud.Target, spec cloud.LaunchSpec, od, spot int, step string, j jobs.Job) ([]cloud.Instance, error) {
	total := od + spot
	if total <= 0 {
		return nil, nil
	}
	w.log(ctx, r.ID, step+"-launch", runs.Info, "Launching %d %s instances", total, spec.InstanceType)
	var out []cloud.Instance
	if spot > 0 {
		s := spec
		s.Market, s.Count, s.ClientToken = cloud.Spot, spot, token(r.ID, step+"-spot")
		ins, err := w.Cloud.Compute.Launch(ctx, t, s)
		switch {
		case errors.Is(err, cloud.ErrInsufficientCapacity):
			w.log(ctx, r.ID, step+"-spot-short", runs.Warning, "Spot capacity for %s is short; launching %d on-demand instead", spec.InstanceType, spot)
			od += spot
		case err != nil:
			return nil, fmt.Errorf("launch spot: %w", err)
		default:
			out = append(out, ins...)
		}
	}
	if od > 0 {
		s := spec
		s.Market, s.Count, s.ClientToken = cloud.OnDemand, od, token(r.ID, step+"-od")
		ins, err := w.Cloud.Compute.Launch(ctx, t, s)
		if err != nil {
			return nil, fmt.Errorf("launch on-demand: %w", err)
		}
		out = append(out, ins...)
	}
	ids := make([]string, len(out))
	for i, in := range out {
		if err := w.Runs.PutInstance(ctx, r.ID, record(in, w.now())); err != nil {
			return nil, err
		}
		ids[i] = in.ID
	}
	if err := w.register(ctx, r, j, t, ids, step); err != nil {
		return nil, err
	}
	return out, nil
}

// record is the run's record of an instance the cloud reported at now.
func record(in cloud.Instance, now time.Time) runs.Instance {
	return runs.Instance{InstanceID: in.ID, InstanceType: in.InstanceType, AvailabilityZone: in.AvailabilityZone,
		SubnetID: in.SubnetID, PrivateIP: in.PrivateIP, Spot: in.Market == cloud.Spot, State: in.State,
		Healthy: in.Healthy, LaunchTime: in.LaunchTime.UTC(), StopTime: in.StopTime, EventTime: now.UTC()}
}

// AwaitStop parks the run until it is stopped: the state machine calls it
// with a task token (waitForTaskToken) and Stop resumes it. Keeping the
// desired state meanwhile is event-driven (Reconcile), so a ten-hour run
// costs as many transitions as a one-hour run.
func (w *Workflow) AwaitStop(ctx context.Context, in runs.Input) (runs.Input, error) {
	if in.TaskToken == "" {
		return in, errors.New("awaitstop: no task token")
	}
	r, err := w.update(ctx, in.RunID, func(r *runs.Run) bool {
		if r.TaskToken == in.TaskToken {
			return false
		}
		r.TaskToken = in.TaskToken
		return true
	})
	if err != nil {
		return in, err
	}
	w.log(ctx, r.ID, "maintaining", runs.Info, "Maintaining Desired State")
	if r.StopRequested || runs.Finished(r.Status) {
		out := in
		out.TaskToken = ""
		if err := w.Executions.Resume(ctx, in.TaskToken, mustJSON(out)); err != nil {
			return in, &TransientError{Err: err}
		}
	}
	return in, nil
}

// StopRun terminates the run's instances and, for an ASG job, hands the
// group back (ReinstateOnStop restores its desired count and processes).
func (w *Workflow) StopRun(ctx context.Context, in runs.Input) (runs.Input, error) {
	r, err := w.update(ctx, in.RunID, func(r *runs.Run) bool {
		if r.Status == runs.StatusStopping || runs.Finished(r.Status) {
			return false
		}
		r.Status = runs.StatusStopping
		return true
	})
	if err != nil {
		return in, err
	}
	if runs.Finished(r.Status) {
		return in, nil
	}
	w.log(ctx, r.ID, "stopping", runs.Info, "Stopping Run")
	if err := w.release(ctx, r, true); err != nil {
		return in, err
	}
	return in, nil
}

// release terminates every instance of the run and hands an ASG back.
func (w *Workflow) release(ctx context.Context, r runs.Run, logIt bool) error {
	t, err := runs.Target(ctx, w.Accounts, r.AccountID, r.Region)
	if err != nil {
		return err
	}
	ins, err := w.Cloud.Compute.DescribeRun(ctx, t, r.ID)
	if err != nil {
		return fmt.Errorf("describe run instances: %w", err)
	}
	var ids []string
	for _, in := range ins {
		if in.State != cloud.StateTerminated {
			ids = append(ids, in.ID)
		}
	}
	j, jerr := w.Jobs.GetJob(ctx, r.JobID)
	if r.GroupName != "" && len(ids) > 0 {
		if err := w.Cloud.AutoScaling.DetachInstances(ctx, t, r.GroupName, ids); err != nil && !errors.Is(err, cloud.ErrNotFound) {
			return fmt.Errorf("detach from %s: %w", r.GroupName, err)
		}
	}
	if len(ids) > 0 {
		if jerr == nil {
			if err := w.deregister(ctx, j, t, ids); err != nil {
				return err
			}
		}
		if err := w.Cloud.Compute.Terminate(ctx, t, ids); err != nil {
			return fmt.Errorf("terminate: %w", err)
		}
		if logIt {
			w.log(ctx, r.ID, "terminate", runs.Info, "Terminating %d instances", len(ids))
		}
	}
	now := w.now()
	for _, id := range ids {
		if _, err := w.Runs.ApplyInstanceEvent(ctx, r.ID, id, cloud.StateShuttingDown, false, now); err != nil {
			return err
		}
	}
	if r.GroupName != "" {
		if jerr == nil && j.ASG != nil && j.ASG.ReinstateOnStop {
			if err := w.Cloud.AutoScaling.SetDesiredCapacity(ctx, t, r.GroupName, r.OriginalDesired); err != nil {
				return fmt.Errorf("reinstate %s: %w", r.GroupName, err)
			}
			w.log(ctx, r.ID, "reinstate", runs.Info, "Reinstating Auto Scaling group %s to %d instances", r.GroupName, r.OriginalDesired)
		}
		if err := w.Cloud.AutoScaling.ResumeProcesses(ctx, t, r.GroupName, nil); err != nil {
			return fmt.Errorf("resume %s: %w", r.GroupName, err)
		}
	}
	return nil
}

// Finalize prices the run (instance-hours × catalog prices), measures its
// CPU for right-size advice, marks it Completed and frees the job.
func (w *Workflow) Finalize(ctx context.Context, in runs.Input) (runs.Input, error) {
	return in, w.finish(ctx, in.RunID, runs.StatusCompleted, "")
}

// Compensate undoes what a failed run launched, then marks it Failed with
// the reason in its log.
func (w *Workflow) Compensate(ctx context.Context, in runs.Input) (runs.Input, error) {
	r, err := w.Runs.GetRun(ctx, in.RunID)
	if err != nil {
		return in, err
	}
	reason := "unknown error"
	if in.Error != nil {
		reason = in.Error.Error
		if in.Error.Cause != "" {
			reason += ": " + causeMessage(in.Error.Cause)
		}
	}
	if !runs.Finished(r.Status) {
		w.log(ctx, r.ID, "failed", runs.Error, "Run Failed: %s", reason)
		if err := w.release(ctx, r, true); err != nil {
			return in, err
		}
	}
	return in, w.finish(ctx, in.RunID, runs.StatusFailed, reason)
}

func (w *Workflow) finish(ctx context.Context, runID, status, reason string) error {
	r, err := w.Runs.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	if runs.Finished(r.Status) {
		return nil
	}
	ins, err := w.Runs.ListInstances(ctx, r.ID)
	if err != nil {
		return err
	}
	end := w.now()
	costs := runs.ComputeCosts(w.Catalog, r.Region, ins, end)
	r.Costs, r.Status, r.EndDate, r.FailureReason, r.TaskToken = &costs, status, &end, reason, ""
	if avg, ok, err := runs.MeasureCPU(ctx, w.Accounts, w.Cloud.Metrics, r, ins, end); err == nil && ok {
		r.AverageCPU = &avg
	}
	if err := w.Runs.FinishRun(ctx, &r); err != nil {
		if errs.Is(err, errs.Conflict) {
			return &TransientError{Err: err}
		}
		return err
	}
	if status == runs.StatusCompleted {
		w.log(ctx, r.ID, "completed", runs.Info, "Run Completed: cost $%.4f, on-demand $%.4f, saved %.1f%%",
			costs.ActualCost, costs.EstimatedCost, costs.SavingsPercentage)
	}
	return nil
}

// loadBalancers are an AMI job's load balancers (an ASG job's group
// registers the instances attached to it itself).
func loadBalancers(j jobs.Job) cloud.LoadBalancers {
	if j.AMI == nil {
		return cloud.LoadBalancers{}
	}
	return cloud.LoadBalancers{ClassicNames: j.AMI.ElasticLoadBalancerNames, TargetGroupARNs: j.AMI.TargetGroupARNs}
}

// balancers returns a job's load balancers and the client that registers
// with them; ok is false when there is nothing to do.
func (w *Workflow) balancers(j jobs.Job, ids []string) (cloud.LoadBalancers, bool, error) {
	lb := loadBalancers(j)
	if lb.Empty() || len(ids) == 0 {
		return lb, false, nil
	}
	if w.Cloud.LoadBalancing == nil {
		return lb, false, errors.New("load balancers: this function has no load balancing client")
	}
	return lb, true, nil
}

// register puts a job's new instances behind its load balancers
// (idempotent: a retried step registers again, harmlessly).
func (w *Workflow) register(ctx context.Context, r runs.Run, j jobs.Job, t cloud.Target, ids []string, step string) error {
	lb, ok, err := w.balancers(j, ids)
	if !ok {
		return err
	}
	if err := w.Cloud.LoadBalancing.Register(ctx, t, lb, ids); err != nil {
		return fmt.Errorf("register with load balancers: %w", err)
	}
	w.log(ctx, r.ID, step+"-register", runs.Info, "Registered %s with %s", strings.Join(ids, ", "), lbNames(lb))
	return nil
}

// deregister takes instances out of a job's load balancers before they are
// terminated, so connections drain.
func (w *Workflow) deregister(ctx context.Context, j jobs.Job, t cloud.Target, ids []string) error {
	lb, ok, err := w.balancers(j, ids)
	if !ok {
		return err
	}
	if err := w.Cloud.LoadBalancing.Deregister(ctx, t, lb, ids); err != nil {
		return fmt.Errorf("deregister from load balancers: %w", err)
	}
	return nil
}

func lbNames(lb cloud.LoadBalancers) string {
	return strings.Join(append(slices.Clone(lb.ClassicNames), lb.TargetGroupARNs...), ", ")
}
