package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/cloud/aws/awstest"
)

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
			c := &awstest.Capture{Respond: func(op string, in any) (any, error) {
				return &ec2.RunInstancesOutput{Instances: []ec2types.Instance{{InstanceId: aws.String("i-1"), InstanceType: "t3.micro",
					InstanceLifecycle: ec2types.InstanceLifecycleTypeSpot, State: &ec2types.InstanceState{Name: "pending"}}}}, nil
			}}
			ins, err := New(awstest.Provider(c)).Launch(context.Background(), awstest.Target, cloud.LaunchSpec{RunID: "R-1", JobID: "W-1", Market: tt.market, Count: 2,
				InstanceType: "t3.micro", ImageID: "ami-1", SubnetIDs: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"},
				AssociatePublicIP: tt.public, UserData: "echo hi", ClientToken: "R-1-prov-spot"})
			if err != nil || len(ins) != 1 || ins[0].Market != cloud.Spot {
				t.Fatalf("launch: %v %v", ins, err)
			}
			if c.Ops()[0] != "RunInstances" {
				t.Fatalf("ops %v", c.Ops())
			}
			in := c.Input(0).(*ec2.RunInstancesInput)
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
	c := &awstest.Capture{Respond: func(string, any) (any, error) { return &ec2.RunInstancesOutput{}, nil }}
	_, err := New(awstest.Provider(c)).Launch(context.Background(), awstest.Target, cloud.LaunchSpec{Count: 1, InstanceType: "t3.micro", ClientToken: strings.Repeat("x", 65)})
	if err == nil || len(c.Ops()) != 0 {
		t.Fatalf("err %v ops %v", err, c.Ops())
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
			c := &awstest.Capture{Respond: func(string, any) (any, error) { return nil, &smithy.GenericAPIError{Code: tt.code, Message: "m"} }}
			_, err := New(awstest.Provider(c)).Launch(context.Background(), awstest.Target, cloud.LaunchSpec{Count: 1, InstanceType: "t3.micro", ClientToken: "t"})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	c := &awstest.Capture{Respond: func(string, any) (any, error) {
		return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"}
	}}
	if err := New(awstest.Provider(c)).Terminate(context.Background(), awstest.Target, []string{"i-gone"}); err != nil {
		t.Fatalf("terminate of a gone instance: %v", err)
	}
}

func TestDescribeRunPaginatesAndFiltersByTag(t *testing.T) {
	pages := 0
	c := &awstest.Capture{Respond: func(op string, in any) (any, error) {
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
	ins, err := New(awstest.Provider(c)).DescribeRun(context.Background(), awstest.Target, "R-1")
	if err != nil || len(ins) != 2 || !ins[0].Healthy || ins[1].Healthy {
		t.Fatalf("describe: %+v %v", ins, err)
	}
	f := c.Input(0).(*ec2.DescribeInstancesInput).Filters[0]
	if aws.ToString(f.Name) != "tag:"+cloud.TagRun || f.Values[0] != "R-1" {
		t.Fatalf("filter %+v", f)
	}
}
