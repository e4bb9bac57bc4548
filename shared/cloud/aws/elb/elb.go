// Package elb registers run instances with customers' load balancers:
// classic ELBs (elasticloadbalancing) and ALB/NLB target groups
// (elasticloadbalancingv2). It is apart from package aws so that only the
// run workflow's functions link these two clients, not the HTTP functions.
package elb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	classic "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	classictypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/batchplane/batchplane/shared/cloud"
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
	if len(ids) == 0 || lb.Empty() {
		return nil
	}
	cfg := l.Configs.Config(t)
	if len(lb.ClassicNames) > 0 {
		c := classic.NewFromConfig(cfg)
		for _, name := range lb.ClassicNames {
			_, err := c.RegisterInstancesWithLoadBalancer(ctx, &classic.RegisterInstancesWithLoadBalancerInput{
				LoadBalancerName: aws.String(name), Instances: classicInstances(ids)})
			if err != nil {
				return mapErr("register with load balancer "+name, err)
			}
		}
	}
	if len(lb.TargetGroupARNs) > 0 {
		c := elbv2.NewFromConfig(cfg)
		for _, arn := range lb.TargetGroupARNs {
			_, err := c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: targets(ids)})
			if err != nil {
				return mapErr("register with target group "+arn, err)
			}
		}
	}
	return nil
}

// Deregister implements cloud.LoadBalancing; an instance the load
// balancer no longer knows is already deregistered.
func (l *LoadBalancing) Deregister(ctx context.Context, t cloud.Target, lb cloud.LoadBalancers, ids []string) error {
	if len(ids) == 0 || lb.Empty() {
		return nil
	}
	cfg := l.Configs.Config(t)
	if len(lb.ClassicNames) > 0 {
		c := classic.NewFromConfig(cfg)
		for _, name := range lb.ClassicNames {
			_, err := c.DeregisterInstancesFromLoadBalancer(ctx, &classic.DeregisterInstancesFromLoadBalancerInput{
				LoadBalancerName: aws.String(name), Instances: classicInstances(ids)})
			if err := gone(mapErr("deregister from load balancer "+name, err)); err != nil {
				return err
			}
		}
	}
	if len(lb.TargetGroupARNs) > 0 {
		c := elbv2.NewFromConfig(cfg)
		for _, arn := range lb.TargetGroupARNs {
			_, err := c.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: targets(ids)})
			if err := gone(mapErr("deregister from target group "+arn, err)); err != nil {
				return err
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

// mapErr classifies load balancing errors by code: a missing load balancer
// or target group is cloud.ErrNotFound (the job names something that does
// not exist), an unknown instance is errGoneTarget.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "LoadBalancerNotFound", "TargetGroupNotFound":
			return fmt.Errorf("%s: %w: %w", op, cloud.ErrNotFound, err)
		case "InvalidInstance", "InvalidTarget":
			return fmt.Errorf("%s: %w: %w", op, errGoneTarget, err)
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			return fmt.Errorf("%s: %w: %w", op, cloud.ErrAccessDenied, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func gone(err error) error {
	if errors.Is(err, errGoneTarget) {
		return nil
	}
	return err
}
