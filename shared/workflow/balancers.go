package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/runs"
)

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
