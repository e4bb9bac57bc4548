package elb

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	classic "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/batchplane/batchplane/shared/cloud"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
)

// capture records every request at the SDK's middleware stack and answers
// it without a network.
type capture struct {
	mu      sync.Mutex
	calls   []call
	respond func(op string) (any, error)
}

type call struct {
	op     string
	region string
	input  any
}

func (c *capture) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("capture",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.calls = append(c.calls, call{op, awsmiddleware.GetRegion(ctx), in.Parameters})
			c.mu.Unlock()
			res, err := c.respond(op)
			return middleware.InitializeOutput{Result: res}, middleware.Metadata{}, err
		}), middleware.Before)
}

func newLB(c *capture) *LoadBalancing {
	p := cloudaws.New(aws.Config{Region: "us-east-1"}, cloudaws.WithAPIOptions(c.option),
		cloudaws.WithCredentials(func(cloud.Target) aws.CredentialsProvider {
			return credentials.NewStaticCredentialsProvider("AK", "SK", "")
		}))
	return New(p)
}

var target = cloud.Target{AccountID: "A-1", RoleArn: "arn:aws:iam::123456789012:role/r", ExternalID: "bp-x", Region: "eu-west-1"}

func ok(op string) (any, error) {
	switch op {
	case "RegisterInstancesWithLoadBalancer":
		return &classic.RegisterInstancesWithLoadBalancerOutput{}, nil
	case "DeregisterInstancesFromLoadBalancer":
		return &classic.DeregisterInstancesFromLoadBalancerOutput{}, nil
	case "RegisterTargets":
		return &elbv2.RegisterTargetsOutput{}, nil
	case "DeregisterTargets":
		return &elbv2.DeregisterTargetsOutput{}, nil
	}
	return nil, errors.New("unexpected " + op)
}

func TestRequests(t *testing.T) {
	tg := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"
	tests := []struct {
		name       string
		lb         cloud.LoadBalancers
		ids        []string
		deregister bool
		wantOps    []string
		check      func(t *testing.T, in any)
	}{
		{name: "classic register", lb: cloud.LoadBalancers{ClassicNames: []string{"web-elb"}}, ids: []string{"i-1", "i-2"},
			wantOps: []string{"RegisterInstancesWithLoadBalancer"},
			check: func(t *testing.T, in any) {
				r := in.(*classic.RegisterInstancesWithLoadBalancerInput)
				if aws.ToString(r.LoadBalancerName) != "web-elb" || len(r.Instances) != 2 || aws.ToString(r.Instances[1].InstanceId) != "i-2" {
					t.Errorf("input %+v", r)
				}
			}},
		{name: "target groups register", lb: cloud.LoadBalancers{TargetGroupARNs: []string{tg, tg + "1"}}, ids: []string{"i-1"},
			wantOps: []string{"RegisterTargets", "RegisterTargets"},
			check: func(t *testing.T, in any) {
				r := in.(*elbv2.RegisterTargetsInput)
				if aws.ToString(r.TargetGroupArn) != tg || len(r.Targets) != 1 || aws.ToString(r.Targets[0].Id) != "i-1" || r.Targets[0].Port != nil {
					t.Errorf("input %+v", r)
				}
			}},
		{name: "target group deregister", lb: cloud.LoadBalancers{TargetGroupARNs: []string{tg}}, ids: []string{"i-9"}, deregister: true,
			wantOps: []string{"DeregisterTargets"},
			check: func(t *testing.T, in any) {
				if r := in.(*elbv2.DeregisterTargetsInput); aws.ToString(r.Targets[0].Id) != "i-9" {
					t.Errorf("input %+v", r)
				}
			}},
		{name: "classic deregister", lb: cloud.LoadBalancers{ClassicNames: []string{"web-elb"}}, ids: []string{"i-9"}, deregister: true,
			wantOps: []string{"DeregisterInstancesFromLoadBalancer"}},
		{name: "nothing to do", lb: cloud.LoadBalancers{}, ids: []string{"i-1"}},
		{name: "no instances", lb: cloud.LoadBalancers{ClassicNames: []string{"web-elb"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &capture{respond: ok}
			l := newLB(c)
			var err error
			if tt.deregister {
				err = l.Deregister(context.Background(), target, tt.lb, tt.ids)
			} else {
				err = l.Register(context.Background(), target, tt.lb, tt.ids)
			}
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, c := range c.calls {
				ops = append(ops, c.op)
				if c.region != "eu-west-1" {
					t.Errorf("%s in region %q, want the target's", c.op, c.region)
				}
			}
			if !reflect.DeepEqual(ops, tt.wantOps) {
				t.Fatalf("ops %v, want %v", ops, tt.wantOps)
			}
			if tt.check != nil {
				tt.check(t, c.calls[0].input)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	apiErr := func(code string) func(string) (any, error) {
		return func(string) (any, error) { return nil, &smithy.GenericAPIError{Code: code, Message: "m"} }
	}
	lb := cloud.LoadBalancers{TargetGroupARNs: []string{"arn:tg"}}
	tests := []struct {
		name       string
		code       string
		deregister bool
		want       error // nil: no error
	}{
		{"missing target group on register", "TargetGroupNotFound", false, cloud.ErrNotFound},
		{"missing target group on deregister", "TargetGroupNotFound", true, cloud.ErrNotFound},
		{"gone instance on deregister is done", "InvalidTarget", true, nil},
		{"bad instance on register", "InvalidTarget", false, errGoneTarget},
		{"denied", "AccessDenied", false, cloud.ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLB(&capture{respond: apiErr(tt.code)})
			var err error
			if tt.deregister {
				err = l.Deregister(context.Background(), target, lb, []string{"i-1"})
			} else {
				err = l.Register(context.Background(), target, lb, []string{"i-1"})
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err %v, want none", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}
