package aws

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/batchplane/batchplane/shared/cloud"
)

// capture records every request at the SDK's middleware stack and answers
// it without a network.
type capture struct {
	mu      sync.Mutex
	ops     []string
	inputs  []any
	respond func(op string, in any) (any, error)
}

func (c *capture) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("capture",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.ops, c.inputs = append(c.ops, op), append(c.inputs, in.Parameters)
			c.mu.Unlock()
			res, err := c.respond(op, in.Parameters)
			return middleware.InitializeOutput{Result: res}, middleware.Metadata{}, err
		}), middleware.Before)
}

func provider(c *capture) *Provider {
	cfg := aws.Config{Region: "us-east-1"}
	return New(cfg, WithAPIOptions(c.option), WithCredentials(func(cloud.Target) aws.CredentialsProvider {
		return credentials.NewStaticCredentialsProvider("AK", "SK", "")
	}))
}

var target = cloud.Target{AccountID: "A-1", RoleArn: "arn:aws:iam::123456789012:role/r", ExternalID: "bp-x", Region: "eu-west-1"}

func TestLaunchRequests(t *testing.T) {
	tests := []struct {
		name   string
		market cloud.Market
		public bool
	}{
		{"spot", cloud.Spot, false},
		{"on-demand with public IP", cloud.OnDemand, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &capture{respond: func(op string, in any) (any, error) {
				return &ec2.RunInstancesOutput{Instances: []ec2types.Instance{{InstanceId: aws.String("i-1"), InstanceType: "t3.micro",
					InstanceLifecycle: ec2types.InstanceLifecycleTypeSpot, State: &ec2types.InstanceState{Name: "pending"}}}}, nil
			}}
			ins, err := provider(c).Launch(context.Background(), target, cloud.LaunchSpec{RunID: "R-1", JobID: "W-1", Market: tt.market, Count: 2,
				InstanceType: "t3.micro", ImageID: "ami-1", SubnetIDs: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"},
				AssociatePublicIP: tt.public, UserData: "echo hi", ClientToken: "R-1-prov-spot"})
			if err != nil || len(ins) != 1 || ins[0].Market != cloud.Spot {
				t.Fatalf("launch: %v %v", ins, err)
			}
			if c.ops[0] != "RunInstances" {
				t.Fatalf("ops %v", c.ops)
			}
			in := c.inputs[0].(*ec2.RunInstancesInput)
			if aws.ToString(in.ClientToken) != "R-1-prov-spot" || aws.ToInt32(in.MinCount) != 2 || aws.ToInt32(in.MaxCount) != 2 {
				t.Errorf("token/count: %+v", in)
			}
			if (in.InstanceMarketOptions != nil) != (tt.market == cloud.Spot) {
				t.Errorf("market options %+v for %s", in.InstanceMarketOptions, tt.market)
			}
			if tt.market == cloud.Spot && in.InstanceMarketOptions.MarketType != ec2types.MarketTypeSpot {
				t.Errorf("market type %v", in.InstanceMarketOptions.MarketType)
			}
			ud, _ := base64.StdEncoding.DecodeString(aws.ToString(in.UserData))
			if string(ud) != "echo hi" {
				t.Errorf("user data %q", ud)
			}
			tags := map[string]string{}
			for _, tg := range in.TagSpecifications[0].Tags {
				tags[*tg.Key] = *tg.Value
			}
			if tags[cloud.TagRun] != "R-1" || tags[cloud.TagJob] != "W-1" || tags[cloud.TagAccount] != "A-1" {
				t.Errorf("tags %v", tags)
			}
			if tt.public != (len(in.NetworkInterfaces) == 1) || (tt.public && in.SubnetId != nil) {
				t.Errorf("network %+v subnet %v", in.NetworkInterfaces, in.SubnetId)
			}
		})
	}
}

func TestLaunchRejectsLongTokens(t *testing.T) {
	c := &capture{respond: func(string, any) (any, error) { return &ec2.RunInstancesOutput{}, nil }}
	_, err := provider(c).Launch(context.Background(), target, cloud.LaunchSpec{Count: 1, InstanceType: "t3.micro", ClientToken: strings.Repeat("x", 65)})
	if err == nil || len(c.ops) != 0 {
		t.Fatalf("err %v ops %v", err, c.ops)
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		code string
		want error
	}{
		{"InsufficientInstanceCapacity", cloud.ErrInsufficientCapacity},
		{"SpotMaxPriceTooLow", cloud.ErrInsufficientCapacity},
		{"MaxSpotInstanceCountExceeded", cloud.ErrInsufficientCapacity},
		{"InvalidInstanceID.NotFound", cloud.ErrNotFound},
		{"UnauthorizedOperation", cloud.ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c := &capture{respond: func(string, any) (any, error) { return nil, &smithy.GenericAPIError{Code: tt.code, Message: "m"} }}
			_, err := provider(c).Launch(context.Background(), target, cloud.LaunchSpec{Count: 1, InstanceType: "t3.micro", ClientToken: "t"})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	c := &capture{respond: func(string, any) (any, error) {
		return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"}
	}}
	if err := provider(c).Terminate(context.Background(), target, []string{"i-gone"}); err != nil {
		t.Fatalf("terminate of a gone instance: %v", err)
	}
}

func TestDescribeRunPaginatesAndFiltersByTag(t *testing.T) {
	pages := 0
	c := &capture{respond: func(op string, in any) (any, error) {
		switch op {
		case "DescribeInstances":
			pages++
			out := &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{{
				InstanceId: aws.String("i-" + string(rune('0'+pages))), State: &ec2types.InstanceState{Name: "running"}}}}}}
			if pages == 1 {
				out.NextToken = aws.String("more")
			}
			return out, nil
		case "DescribeInstanceStatus":
			return &ec2.DescribeInstanceStatusOutput{InstanceStatuses: []ec2types.InstanceStatus{{InstanceId: aws.String("i-2"),
				InstanceStatus: &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusImpaired}}}}, nil
		}
		return nil, errors.New("unexpected " + op)
	}}
	ins, err := provider(c).DescribeRun(context.Background(), target, "R-1")
	if err != nil || len(ins) != 2 || !ins[0].Healthy || ins[1].Healthy {
		t.Fatalf("describe: %+v %v", ins, err)
	}
	f := c.inputs[0].(*ec2.DescribeInstancesInput).Filters[0]
	if aws.ToString(f.Name) != "tag:"+cloud.TagRun || f.Values[0] != "R-1" {
		t.Fatalf("filter %+v", f)
	}
}

func TestAutoScalingRequests(t *testing.T) {
	c := &capture{respond: func(op string, in any) (any, error) {
		switch op {
		case "DetachInstances":
			return &autoscaling.DetachInstancesOutput{}, nil
		case "SuspendProcesses":
			return &autoscaling.SuspendProcessesOutput{}, nil
		}
		return nil, errors.New("unexpected " + op)
	}}
	p := provider(c)
	if err := p.DetachInstances(context.Background(), target, "g", []string{"i-1"}); err != nil {
		t.Fatal(err)
	}
	if err := p.SuspendProcesses(context.Background(), target, "g", []string{"Launch"}); err != nil {
		t.Fatal(err)
	}
	d := c.inputs[0].(*autoscaling.DetachInstancesInput)
	if !aws.ToBool(d.ShouldDecrementDesiredCapacity) || aws.ToString(d.AutoScalingGroupName) != "g" {
		t.Fatalf("detach %+v", d)
	}
	if s := c.inputs[1].(*autoscaling.SuspendProcessesInput); s.ScalingProcesses[0] != "Launch" {
		t.Fatalf("suspend %+v", s)
	}
}

func TestGetGroupReadsLaunchTemplates(t *testing.T) {
	c := &capture{respond: func(op string, in any) (any, error) {
		switch op {
		case "DescribeAutoScalingGroups":
			return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []astypes.AutoScalingGroup{{
				AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(1), MaxSize: aws.Int32(4), DesiredCapacity: aws.Int32(2),
				LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String("lt-1"), Version: aws.String("$Latest")},
				VPCZoneIdentifier: aws.String("subnet-a,subnet-b")}}}, nil
		case "DescribeLaunchTemplateVersions":
			return &ec2.DescribeLaunchTemplateVersionsOutput{LaunchTemplateVersions: []ec2types.LaunchTemplateVersion{{
				LaunchTemplateName: aws.String("web-lt"), LaunchTemplateData: &ec2types.ResponseLaunchTemplateData{
					InstanceType: "m5.large", ImageId: aws.String("ami-9"), UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("boot")))}}}}, nil
		}
		return nil, errors.New("unexpected " + op)
	}}
	g, err := provider(c).GetGroup(context.Background(), target, "web")
	if err != nil {
		t.Fatal(err)
	}
	if g.InstanceType != "m5.large" || g.ImageID != "ami-9" || g.UserData != "boot" || len(g.SubnetIDs) != 2 || g.DesiredCapacity != 2 {
		t.Fatalf("group %+v", g)
	}
	if v := c.inputs[1].(*ec2.DescribeLaunchTemplateVersionsInput); aws.ToString(v.LaunchTemplateId) != "lt-1" || v.Versions[0] != "$Latest" {
		t.Fatalf("launch template request %+v", v)
	}
}
