package autoscaling

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	asg "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/batchplane/batchplane/shared/cloud/aws/awstest"
)

func TestAutoScalingRequests(t *testing.T) {
	c := &awstest.Capture{Respond: func(op string, in any) (any, error) {
		switch op {
		case "DetachInstances":
			return &asg.DetachInstancesOutput{}, nil
		case "SuspendProcesses":
			return &asg.SuspendProcessesOutput{}, nil
		}
		return nil, errors.New("unexpected " + op)
	}}
	p := New(awstest.Provider(c))
	if err := p.DetachInstances(context.Background(), awstest.Target, "g", []string{"i-1"}); err != nil {
		t.Fatal(err)
	}
	if err := p.SuspendProcesses(context.Background(), awstest.Target, "g", []string{"Launch"}); err != nil {
		t.Fatal(err)
	}
	d := c.Input(0).(*asg.DetachInstancesInput)
	if !aws.ToBool(d.ShouldDecrementDesiredCapacity) || aws.ToString(d.AutoScalingGroupName) != "g" {
		t.Fatalf("detach %+v", d)
	}
	if s := c.Input(1).(*asg.SuspendProcessesInput); s.ScalingProcesses[0] != "Launch" {
		t.Fatalf("suspend %+v", s)
	}
}

func TestGetGroupReadsLaunchTemplates(t *testing.T) {
	c := &awstest.Capture{Respond: func(op string, in any) (any, error) {
		switch op {
		case "DescribeAutoScalingGroups":
			return &asg.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []astypes.AutoScalingGroup{{
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
	g, err := New(awstest.Provider(c)).GetGroup(context.Background(), awstest.Target, "web")
	if err != nil {
		t.Fatal(err)
	}
	if g.InstanceType != "m5.large" || g.ImageID != "ami-9" || g.UserData != "boot" || len(g.SubnetIDs) != 2 || g.DesiredCapacity != 2 {
		t.Fatalf("group %+v", g)
	}
	if v := c.Input(1).(*ec2.DescribeLaunchTemplateVersionsInput); aws.ToString(v.LaunchTemplateId) != "lt-1" || v.Versions[0] != "$Latest" {
		t.Fatalf("launch template request %+v", v)
	}
}
