// Package autoscaling implements cloud.AutoScaling on customers' accounts:
// reading their Auto Scaling groups (with the launch configuration or
// template's instance settings, from EC2) and steering them. It is a
// package of its own so that a function links Auto Scaling only when its
// main names it (apps and the run workflow's functions).
package autoscaling

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	asg "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/batchplane/batchplane/shared/cloud"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
)

var _ cloud.AutoScaling = (*AutoScaling)(nil)

// AutoScaling implements cloud.AutoScaling.
type AutoScaling struct {
	asg *cloudaws.Clients[*asg.Client]
	ec2 *cloudaws.Clients[*ec2.Client] // launch templates
}

// New returns the Auto Scaling of the targets p configures (cloudaws.New).
func New(p cloudaws.Configs) *AutoScaling {
	return &AutoScaling{asg: cloudaws.NewClients[*asg.Client](p), ec2: cloudaws.NewClients[*ec2.Client](p)}
}

// groups is the Auto Scaling client of target t.
func (a *AutoScaling) groups(t cloud.Target) *asg.Client {
	return a.asg.For(t, func(cfg aws.Config) *asg.Client { return asg.NewFromConfig(cfg) })
}

// ListGroups implements cloud.AutoScaling.
func (a *AutoScaling) ListGroups(ctx context.Context, t cloud.Target) ([]cloud.Group, error) {
	var out []cloud.Group
	pg := asg.NewDescribeAutoScalingGroupsPaginator(a.groups(t), &asg.DescribeAutoScalingGroupsInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, cloudaws.Err("describe groups", err)
		}
		for _, g := range page.AutoScalingGroups {
			out = append(out, groupOf(g))
		}
	}
	return out, nil
}

func groupOf(g astypes.AutoScalingGroup) cloud.Group {
	out := cloud.Group{Name: aws.ToString(g.AutoScalingGroupName), MinSize: int(aws.ToInt32(g.MinSize)), MaxSize: int(aws.ToInt32(g.MaxSize)),
		DesiredCapacity: int(aws.ToInt32(g.DesiredCapacity)), LaunchConfigurationName: aws.ToString(g.LaunchConfigurationName),
		LoadBalancerNames: g.LoadBalancerNames, TargetGroupARNs: g.TargetGroupARNs, AvailabilityZones: g.AvailabilityZones,
		HealthCheckGracePeriod: int(aws.ToInt32(g.HealthCheckGracePeriod)), DefaultCooldown: int(aws.ToInt32(g.DefaultCooldown)),
		Tags: map[string]string{}}
	for _, in := range g.Instances {
		out.InstanceIDs = append(out.InstanceIDs, aws.ToString(in.InstanceId))
	}
	for _, tg := range g.Tags {
		out.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	for _, sp := range g.SuspendedProcesses {
		out.SuspendedProcesses = append(out.SuspendedProcesses, aws.ToString(sp.ProcessName))
	}
	if g.VPCZoneIdentifier != nil {
		out.SubnetIDs = splitComma(*g.VPCZoneIdentifier)
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// GetGroup implements cloud.AutoScaling, with its launch configuration.
func (a *AutoScaling) GetGroup(ctx context.Context, t cloud.Target, name string) (cloud.Group, error) {
	groups := a.groups(t)
	out, err := groups.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return cloud.Group{}, cloudaws.Err("describe group", err)
	}
	if len(out.AutoScalingGroups) == 0 {
		return cloud.Group{}, fmt.Errorf("group %s: %w", name, cloud.ErrNotFound)
	}
	raw := out.AutoScalingGroups[0]
	g := groupOf(raw)
	lt := raw.LaunchTemplate
	if lt == nil && raw.MixedInstancesPolicy != nil && raw.MixedInstancesPolicy.LaunchTemplate != nil {
		lt = raw.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification
	}
	if lt != nil {
		if err := a.fromLaunchTemplate(ctx, t, lt, &g); err != nil {
			return cloud.Group{}, err
		}
	}
	if raw.LaunchConfigurationName != nil {
		lc, err := groups.DescribeLaunchConfigurations(ctx, &asg.DescribeLaunchConfigurationsInput{LaunchConfigurationNames: []string{g.LaunchConfigurationName}})
		if err != nil {
			return cloud.Group{}, cloudaws.Err("describe launch configuration", err)
		}
		if len(lc.LaunchConfigurations) > 0 {
			l := lc.LaunchConfigurations[0]
			g.InstanceType, g.ImageID, g.KeyName = aws.ToString(l.InstanceType), aws.ToString(l.ImageId), aws.ToString(l.KeyName)
			g.SecurityGroupIDs, g.InstanceProfileArn = l.SecurityGroups, aws.ToString(l.IamInstanceProfile)
			g.AssociatePublicIP, g.EBSOptimized = aws.ToBool(l.AssociatePublicIpAddress), aws.ToBool(l.EbsOptimized)
			if ud, err := base64.StdEncoding.DecodeString(aws.ToString(l.UserData)); err == nil {
				g.UserData = string(ud)
			}
		}
	}
	return g, nil
}

// fromLaunchTemplate fills the instance settings from a group's launch
// template version.
func (a *AutoScaling) fromLaunchTemplate(ctx context.Context, t cloud.Target, lt *astypes.LaunchTemplateSpecification, g *cloud.Group) error {
	version := aws.ToString(lt.Version)
	if version == "" {
		version = "$Default"
	}
	in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{version}}
	if lt.LaunchTemplateId != nil {
		in.LaunchTemplateId = lt.LaunchTemplateId
	} else {
		in.LaunchTemplateName = lt.LaunchTemplateName
	}
	out, err := a.ec2.For(t, func(cfg aws.Config) *ec2.Client { return ec2.NewFromConfig(cfg) }).DescribeLaunchTemplateVersions(ctx, in)
	if err != nil {
		return cloudaws.Err("describe launch template", err)
	}
	if len(out.LaunchTemplateVersions) == 0 || out.LaunchTemplateVersions[0].LaunchTemplateData == nil {
		return fmt.Errorf("launch template of %s: %w", g.Name, cloud.ErrNotFound)
	}
	d := out.LaunchTemplateVersions[0].LaunchTemplateData
	g.LaunchConfigurationName = aws.ToString(out.LaunchTemplateVersions[0].LaunchTemplateName)
	g.InstanceType, g.ImageID, g.KeyName = string(d.InstanceType), aws.ToString(d.ImageId), aws.ToString(d.KeyName)
	g.SecurityGroupIDs = d.SecurityGroupIds
	if d.IamInstanceProfile != nil {
		g.InstanceProfileArn = aws.ToString(d.IamInstanceProfile.Arn)
	}
	g.EBSOptimized = aws.ToBool(d.EbsOptimized)
	if ud, err := base64.StdEncoding.DecodeString(aws.ToString(d.UserData)); err == nil {
		g.UserData = string(ud)
	}
	return nil
}

// SetDesiredCapacity implements cloud.AutoScaling.
func (a *AutoScaling) SetDesiredCapacity(ctx context.Context, t cloud.Target, name string, desired int) error {
	_, err := a.groups(t).SetDesiredCapacity(ctx, &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(name), DesiredCapacity: aws.Int32(int32(desired))})
	return cloudaws.Err("set desired capacity", err)
}

// SuspendProcesses implements cloud.AutoScaling.
func (a *AutoScaling) SuspendProcesses(ctx context.Context, t cloud.Target, name string, processes []string) error {
	_, err := a.groups(t).SuspendProcesses(ctx, &asg.SuspendProcessesInput{AutoScalingGroupName: aws.String(name), ScalingProcesses: processes})
	return cloudaws.Err("suspend processes", err)
}

// ResumeProcesses implements cloud.AutoScaling.
func (a *AutoScaling) ResumeProcesses(ctx context.Context, t cloud.Target, name string, processes []string) error {
	_, err := a.groups(t).ResumeProcesses(ctx, &asg.ResumeProcessesInput{AutoScalingGroupName: aws.String(name), ScalingProcesses: processes})
	return cloudaws.Err("resume processes", err)
}

// SetMaxSize implements cloud.AutoScaling.
func (a *AutoScaling) SetMaxSize(ctx context.Context, t cloud.Target, name string, max int) error {
	_, err := a.groups(t).UpdateAutoScalingGroup(ctx, &asg.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), MaxSize: aws.Int32(int32(max))})
	return cloudaws.Err("update group max size", err)
}

// AttachInstances implements cloud.AutoScaling.
func (a *AutoScaling) AttachInstances(ctx context.Context, t cloud.Target, name string, ids []string) error {
	_, err := a.groups(t).AttachInstances(ctx, &asg.AttachInstancesInput{AutoScalingGroupName: aws.String(name), InstanceIds: ids})
	return cloudaws.Err("attach instances", err)
}

// DetachInstances implements cloud.AutoScaling (decrementing desired).
func (a *AutoScaling) DetachInstances(ctx context.Context, t cloud.Target, name string, ids []string) error {
	_, err := a.groups(t).DetachInstances(ctx, &asg.DetachInstancesInput{AutoScalingGroupName: aws.String(name),
		InstanceIds: ids, ShouldDecrementDesiredCapacity: aws.Bool(true)})
	return cloudaws.Err("detach instances", err)
}
