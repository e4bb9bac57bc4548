// Package elb registers run instances with customers' load balancers:
// classic ELBs (elasticloadbalancing) and ALB/NLB target groups
// (elasticloadbalancingv2). It is apart from package aws so that only the
// run workflow's functions link these two clients, not the HTTP functions.
package elb

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	classic "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	classictypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/batchplane/batchplane/shared/cloud"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
)

var _ cloud.LoadBalancing = (*LoadBalancing)(nil)

// Configs gives the AWS configuration of a target (aws.Provider.Config).
type Configs interface {
	Config(t cloud.Target) aws.Config
}

// LoadBalancing implements cloud.LoadBalancing.
type LoadBalancing struct {
	Configs Configs
}

// New returns load balancing for the targets p configures.
func New(p Configs) *LoadBalancing { return &LoadBalancing{Configs: p} }

// Register implements cloud.LoadBalancing.
func (l *LoadBalancing) Register(ctx context.Context, t cloud.Target, lb cloud.LoadBalancers, ids []string) error {
	return l.each(ctx, t, lb, ids, "register with",
		func(c *classic.Client, name string, ins []classictypes.Instance) error {
			_, err := c.RegisterInstancesWithLoadBalancer(ctx, &classic.RegisterInstancesWithLoadBalancerInput{LoadBalancerName: &name, Instances: ins})
			return err
		},
		func(c *elbv2.Client, arn string, tgs []elbv2types.TargetDescription) error {
			_, err := c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &arn, Targets: tgs})
			return err
		})
}

// Deregister implements cloud.LoadBalancing; an instance the load
// balancer no longer knows is already deregistered.
func (l *LoadBalancing) Deregister(ctx context.Context, t cloud.Target, lb cloud.LoadBalancers, ids []string) error {
	return l.each(ctx, t, lb, ids, "deregister from",
		func(c *classic.Client, name string, ins []classictypes.Instance) error {
			_, err := c.DeregisterInstancesFromLoadBalancer(ctx, &classic.DeregisterInstancesFromLoadBalancerInput{LoadBalancerName: &name, Instances: ins})
			return gone(err)
		},
		func(c *elbv2.Client, arn string, tgs []elbv2types.TargetDescription) error {
			_, err := c.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: &arn, Targets: tgs})
			return gone(err)
		})
}

// each calls onClassic for every classic load balancer and onGroup for
// every target group of lb, with the instances ids, stopping at the first
// error.
func (l *LoadBalancing) each(ctx context.Context, t cloud.Target, lb cloud.LoadBalancers, ids []string, verb string,
	onClassic func(c *classic.Client, name string, ins []classictypes.Instance) error,
	onGroup func(c *elbv2.Client, arn string, tgs []elbv2types.TargetDescription) error) error {
	if len(ids) == 0 || lb.Empty() {
		return nil
	}
	cfg := l.Configs.Config(t)
	if len(lb.ClassicNames) > 0 {
		c, ins := classic.NewFromConfig(cfg), classicInstances(ids)
		for _, name := range lb.ClassicNames {
			if err := onClassic(c, name, ins); err != nil {
				return cloudaws.MapErr(verb+" load balancer "+name, err, codes)
			}
		}
	}
	if len(lb.TargetGroupARNs) > 0 {
		c, tgs := elbv2.NewFromConfig(cfg), targets(ids)
		for _, arn := range lb.TargetGroupARNs {
			if err := onGroup(c, arn, tgs); err != nil {
				return cloudaws.MapErr(verb+" target group "+arn, err, codes)
			}
		}
	}
	return nil
}

func classicInstances(ids []string) []classictypes.Instance {
	out := make([]classictypes.Instance, len(ids))
	for i, id := range ids {
		out[i] = classictypes.Instance{InstanceId: aws.String(id)}
	}
	return out
}

func targets(ids []string) []elbv2types.TargetDescription {
	out := make([]elbv2types.TargetDescription, len(ids))
	for i, id := range ids {
		out[i] = elbv2types.TargetDescription{Id: aws.String(id)}
	}
	return out
}

// errGoneTarget marks an instance the load balancer does not know.
var errGoneTarget = errors.New("elb: unknown instance")

// codes: a missing load balancer or target group is cloud.ErrNotFound (the
// job names something that does not exist), an unknown instance is
// errGoneTarget.
var codes = map[string]error{
	"LoadBalancerNotFound": cloud.ErrNotFound, "TargetGroupNotFound": cloud.ErrNotFound,
	"InvalidInstance": errGoneTarget, "InvalidTarget": errGoneTarget,
}

// gone drops the error of deregistering an instance the load balancer no
// longer knows.
func gone(err error) error {
	if errors.Is(cloudaws.MapErr("", err, codes), errGoneTarget) {
		return nil
	}
	return err
}
