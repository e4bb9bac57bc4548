package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/runs"
)

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

// launchOne launches one instance in market, or in the next of
// launchMarkets when spot capacity is short. Each market has its own
// ClientToken (step + "-s" / "-o"), so a retried step launches nothing twice.
func (w *Workflow) launchOne(ctx context.Context, r runs.Run, t cloud.Target, spec cloud.LaunchSpec, market cloud.Market, step string) (cloud.Instance, error) {
	s := spec
	s.Count = 1
	for _, m := range launchMarkets(market) {
		suffix := "-o"
		if m == cloud.Spot {
			suffix = "-s"
		}
		s.Market, s.ClientToken = m, token(r.ID, step+suffix)
		ins, err := w.Cloud.Compute.Launch(ctx, t, s)
		switch {
		case err == nil && len(ins) > 0:
			return ins[0], w.Runs.PutInstance(ctx, r.ID, record(ins[0], w.now()))
		case m == cloud.Spot && (err == nil || errors.Is(err, cloud.ErrInsufficientCapacity)):
			// short of spot: next market
		case err != nil:
			return cloud.Instance{}, fmt.Errorf("launch %s: %w", marketName(m), err)
		}
	}
	return cloud.Instance{}, errors.New("launch returned no instance")
}

// record is the run's record of an instance the cloud reported at now.
func record(in cloud.Instance, now time.Time) runs.Instance {
	return runs.Instance{InstanceID: in.ID, InstanceType: in.InstanceType, AvailabilityZone: in.AvailabilityZone,
		SubnetID: in.SubnetID, PrivateIP: in.PrivateIP, Spot: in.Market == cloud.Spot, State: in.State,
		Healthy: in.Healthy, LaunchTime: in.LaunchTime.UTC(), StopTime: in.StopTime, EventTime: now.UTC()}
}

// attachReplacement puts an ASG job's replacement into the group, so it is
// one of the group's instances (and behind the group's load balancers) like
// the ones it replaces. Attaching raises the group's desired count; the
// instance replaced has left the group (terminated), so the count before
// is restored, with room made under the max size meanwhile, as takeOver.
func (w *Workflow) attachReplacement(ctx context.Context, t cloud.Target, name, id string) error {
	cur, err := w.Cloud.AutoScaling.GetGroup(ctx, t, name)
	if err != nil {
		return fmt.Errorf("group %s: %w", name, err)
	}
	if slices.Contains(cur.InstanceIDs, id) {
		return nil
	}
	if cur.DesiredCapacity+1 > cur.MaxSize {
		if err := w.Cloud.AutoScaling.SetMaxSize(ctx, t, name, cur.DesiredCapacity+1); err != nil {
			return fmt.Errorf("raise max size of %s: %w", name, err)
		}
		defer func() { _ = w.Cloud.AutoScaling.SetMaxSize(context.WithoutCancel(ctx), t, name, cur.MaxSize) }()
	}
	if err := w.Cloud.AutoScaling.AttachInstances(ctx, t, name, []string{id}); err != nil {
		return fmt.Errorf("attach %s to %s: %w", id, name, err)
	}
	if err := w.Cloud.AutoScaling.SetDesiredCapacity(ctx, t, name, cur.DesiredCapacity); err != nil {
		return fmt.Errorf("restore desired of %s: %w", name, err)
	}
	return nil
}

func marketName(m cloud.Market) string {
	if m == cloud.Spot {
		return "spot"
	}
	return "on-demand"
}
