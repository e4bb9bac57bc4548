// Package aws implements the cloud interfaces on customers' AWS accounts
// with aws-sdk-go-v2: every call runs as the account's role, assumed with
// STS and its ExternalId; credentials and clients are cached per target.
package aws

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/batchplane/batchplane/shared/cloud"
)

var (
	_ cloud.Compute     = (*Provider)(nil)
	_ cloud.AutoScaling = (*Provider)(nil)
	_ cloud.Metrics     = (*Provider)(nil)
	_ cloud.Roles       = (*Provider)(nil)
)

// Provider reaches customers' accounts.
type Provider struct {
	cfg        aws.Config
	apiOptions []func(*middleware.Stack) error
	creds      func(t cloud.Target) aws.CredentialsProvider

	mu      sync.Mutex
	clients map[cloud.Target]*clients
}

type clients struct {
	cfg aws.Config
	ec2 *ec2.Client
	asg *autoscaling.Client
	cw  *cloudwatch.Client
	sts *sts.Client
}

// Option configures a Provider.
type Option func(*Provider)

// WithAPIOptions adds SDK middleware to every client (tests capture
// requests with it, without a network).
func WithAPIOptions(opts ...func(*middleware.Stack) error) Option {
	return func(p *Provider) { p.apiOptions = append(p.apiOptions, opts...) }
}

// WithCredentials replaces role assumption (tests).
func WithCredentials(f func(cloud.Target) aws.CredentialsProvider) Option {
	return func(p *Provider) { p.creds = f }
}

// New returns a Provider built once from the function's AWS config.
func New(cfg aws.Config, opts ...Option) *Provider {
	p := &Provider{cfg: cfg, clients: map[cloud.Target]*clients{}}
	stsClient := sts.NewFromConfig(cfg)
	p.creds = func(t cloud.Target) aws.CredentialsProvider {
		return aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, t.RoleArn, func(o *stscreds.AssumeRoleOptions) {
			o.ExternalID = aws.String(t.ExternalID)
			o.RoleSessionName = "batchplane-" + t.AccountID
		}))
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func (p *Provider) for_(t cloud.Target) *clients {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[t]; ok {
		return c
	}
	cfg := p.configLocked(t)
	c := &clients{cfg: cfg, ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg), sts: sts.NewFromConfig(cfg)}
	p.clients[t] = c
	return c
}

func (p *Provider) configLocked(t cloud.Target) aws.Config {
	cfg := p.cfg.Copy()
	cfg.Region = t.Region
	cfg.Credentials = p.creds(t)
	cfg.APIOptions = append(cfg.APIOptions, p.apiOptions...)
	return cfg
}

// Config returns the AWS configuration for a target: its region and the
// assumed role's cached credentials, shared by every client of the target
// (package elb builds its clients from it).
func (p *Provider) Config(t cloud.Target) aws.Config { return p.for_(t).cfg }

// codes are the error codes of EC2, Auto Scaling and STS that mean
// something to the workflow.
var codes = map[string]error{
	"InsufficientInstanceCapacity": cloud.ErrInsufficientCapacity, "SpotMaxPriceTooLow": cloud.ErrInsufficientCapacity,
	"MaxSpotInstanceCountExceeded": cloud.ErrInsufficientCapacity, "InsufficientCapacity": cloud.ErrInsufficientCapacity,
	"InvalidInstanceID.NotFound": cloud.ErrNotFound, "InvalidInstanceID.Malformed": cloud.ErrNotFound, "ValidationError": cloud.ErrNotFound,
}

func mapErr(op string, err error) error { return MapErr(op, err, codes) }

// MapErr classifies an AWS error by its code, never by its message: codes
// maps a service's codes to the cloud errors they mean; denied access is
// cloud.ErrAccessDenied for every service.
func MapErr(op string, err error, codes map[string]error) error {
	if err == nil {
		return nil
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		if c, ok := codes[code]; ok {
			return fmt.Errorf("%s: %w: %w", op, c, err)
		}
		switch code {
		case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
			return fmt.Errorf("%s: %w: %w", op, cloud.ErrAccessDenied, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Launch implements cloud.Compute: RunInstances with the spot market
// options for spot, the ClientToken for idempotency and the run's tags.
func (p *Provider) Launch(ctx context.Context, t cloud.Target, s cloud.LaunchSpec) ([]cloud.Instance, error) {
	if len(s.ClientToken) > 64 {
		return nil, fmt.Errorf("launch: ClientToken %q is longer than 64 characters", s.ClientToken)
	}
	tags := []ec2types.Tag{{Key: aws.String(cloud.TagRun), Value: aws.String(s.RunID)}, {Key: aws.String(cloud.TagJob), Value: aws.String(s.JobID)},
		{Key: aws.String(cloud.TagAccount), Value: aws.String(t.AccountID)}}
	for k, v := range s.Tags {
		if k != cloud.TagAccount {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	in := &ec2.RunInstancesInput{
		MinCount: aws.Int32(int32(s.Count)), MaxCount: aws.Int32(int32(s.Count)),
		ImageId: aws.String(s.ImageID), InstanceType: ec2types.InstanceType(s.InstanceType),
		ClientToken: aws.String(s.ClientToken),
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: tags},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: tags},
		},
	}
	if s.KeyName != "" {
		in.KeyName = aws.String(s.KeyName)
	}
	if s.UserData != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(s.UserData)))
	}
	if s.InstanceProfileArn != "" {
		in.IamInstanceProfile = &ec2types.IamInstanceProfileSpecification{Arn: aws.String(s.InstanceProfileArn)}
	}
	var subnet *string
	if len(s.SubnetIDs) > 0 {
		subnet = aws.String(s.SubnetIDs[0])
	}
	if s.AssociatePublicIP {
		in.NetworkInterfaces = []ec2types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0),
			AssociatePublicIpAddress: aws.Bool(true), SubnetId: subnet, Groups: s.SecurityGroupIDs}}
	} else {
		in.SubnetId, in.SecurityGroupIds = subnet, s.SecurityGroupIDs
	}
	if s.Market == cloud.Spot {
		in.InstanceMarketOptions = &ec2types.InstanceMarketOptionsRequest{
			MarketType: ec2types.MarketTypeSpot,
			SpotOptions: &ec2types.SpotMarketOptions{
				SpotInstanceType:             ec2types.SpotInstanceTypeOneTime,
				InstanceInterruptionBehavior: ec2types.InstanceInterruptionBehaviorTerminate,
			},
		}
	}
	out, err := p.for_(t).ec2.RunInstances(ctx, in)
	if err != nil {
		return nil, mapErr("run instances", err)
	}
	res := make([]cloud.Instance, len(out.Instances))
	for i, x := range out.Instances {
		res[i] = instanceOf(x)
	}
	return res, nil
}

func instanceOf(x ec2types.Instance) cloud.Instance {
	in := cloud.Instance{ID: aws.ToString(x.InstanceId), InstanceType: string(x.InstanceType), SubnetID: aws.ToString(x.SubnetId),
		PrivateIP: aws.ToString(x.PrivateIpAddress), Market: cloud.OnDemand, Healthy: true, Tags: map[string]string{}}
	if x.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot {
		in.Market = cloud.Spot
	}
	if x.Placement != nil {
		in.AvailabilityZone = aws.ToString(x.Placement.AvailabilityZone)
	}
	if x.State != nil {
		in.State = string(x.State.Name)
	}
	if x.LaunchTime != nil {
		in.LaunchTime = *x.LaunchTime
	}
	for _, tg := range x.Tags {
		in.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return in
}

// Terminate implements cloud.Compute (idempotent).
func (p *Provider) Terminate(ctx context.Context, t cloud.Target, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := p.for_(t).ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err = mapErr("terminate", err); errors.Is(err, cloud.ErrNotFound) {
		return nil
	}
	return err
}

func (p *Provider) describe(ctx context.Context, t cloud.Target, in *ec2.DescribeInstancesInput) ([]cloud.Instance, error) {
	c := p.for_(t)
	var out []cloud.Instance
	pg := ec2.NewDescribeInstancesPaginator(c.ec2, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, mapErr("describe instances", err)
		}
		for _, r := range page.Reservations {
			for _, x := range r.Instances {
				out = append(out, instanceOf(x))
			}
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	for i, in := range out {
		ids[i] = in.ID
	}
	st, err := c.ec2.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids})
	if err != nil {
		return nil, mapErr("describe instance status", err)
	}
	impaired := map[string]bool{}
	for _, s := range st.InstanceStatuses {
		if (s.InstanceStatus != nil && s.InstanceStatus.Status == ec2types.SummaryStatusImpaired) ||
			(s.SystemStatus != nil && s.SystemStatus.Status == ec2types.SummaryStatusImpaired) {
			impaired[aws.ToString(s.InstanceId)] = true
		}
	}
	for i := range out {
		out[i].Healthy = !impaired[out[i].ID]
	}
	return out, nil
}

// Describe implements cloud.Compute.
func (p *Provider) Describe(ctx context.Context, t cloud.Target, ids []string) ([]cloud.Instance, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return p.describe(ctx, t, &ec2.DescribeInstancesInput{InstanceIds: ids})
}

// DescribeRun implements cloud.Compute.
func (p *Provider) DescribeRun(ctx context.Context, t cloud.Target, runID string) ([]cloud.Instance, error) {
	return p.describe(ctx, t, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:" + cloud.TagRun), Values: []string{runID}}}})
}

// ListGroups implements cloud.AutoScaling.
func (p *Provider) ListGroups(ctx context.Context, t cloud.Target) ([]cloud.Group, error) {
	var out []cloud.Group
	pg := autoscaling.NewDescribeAutoScalingGroupsPaginator(p.for_(t).asg, &autoscaling.DescribeAutoScalingGroupsInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, mapErr("describe groups", err)
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
func (p *Provider) GetGroup(ctx context.Context, t cloud.Target, name string) (cloud.Group, error) {
	c := p.for_(t)
	out, err := c.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return cloud.Group{}, mapErr("describe group", err)
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
		if err := p.fromLaunchTemplate(ctx, c, lt, &g); err != nil {
			return cloud.Group{}, err
		}
	}
	if raw.LaunchConfigurationName != nil {
		lc, err := c.asg.DescribeLaunchConfigurations(ctx, &autoscaling.DescribeLaunchConfigurationsInput{LaunchConfigurationNames: []string{g.LaunchConfigurationName}})
		if err != nil {
			return cloud.Group{}, mapErr("describe launch configuration", err)
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
func (p *Provider) fromLaunchTemplate(ctx context.Context, c *clients, lt *astypes.LaunchTemplateSpecification, g *cloud.Group) error {
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
	out, err := c.ec2.DescribeLaunchTemplateVersions(ctx, in)
	if err != nil {
		return mapErr("describe launch template", err)
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
func (p *Provider) SetDesiredCapacity(ctx context.Context, t cloud.Target, name string, desired int) error {
	_, err := p.for_(t).asg.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(name), DesiredCapacity: aws.Int32(int32(desired))})
	return mapErr("set desired capacity", err)
}

// SuspendProcesses implements cloud.AutoScaling.
func (p *Provider) SuspendProcesses(ctx context.Context, t cloud.Target, name string, processes []string) error {
	_, err := p.for_(t).asg.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String(name), ScalingProcesses: processes})
	return mapErr("suspend processes", err)
}

// ResumeProcesses implements cloud.AutoScaling.
func (p *Provider) ResumeProcesses(ctx context.Context, t cloud.Target, name string, processes []string) error {
	_, err := p.for_(t).asg.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: aws.String(name), ScalingProcesses: processes})
	return mapErr("resume processes", err)
}

// SetMaxSize implements cloud.AutoScaling.
func (p *Provider) SetMaxSize(ctx context.Context, t cloud.Target, name string, max int) error {
	_, err := p.for_(t).asg.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), MaxSize: aws.Int32(int32(max))})
	return mapErr("update group max size", err)
}

// AttachInstances implements cloud.AutoScaling.
func (p *Provider) AttachInstances(ctx context.Context, t cloud.Target, name string, ids []string) error {
	_, err := p.for_(t).asg.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String(name), InstanceIds: ids})
	return mapErr("attach instances", err)
}

// DetachInstances implements cloud.AutoScaling (decrementing desired).
func (p *Provider) DetachInstances(ctx context.Context, t cloud.Target, name string, ids []string) error {
	_, err := p.for_(t).asg.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String(name),
		InstanceIds: ids, ShouldDecrementDesiredCapacity: aws.Bool(true)})
	return mapErr("detach instances", err)
}

// AverageCPU implements cloud.Metrics with CloudWatch's AWS/EC2
// CPUUtilization averages of each instance, averaged.
func (p *Provider) AverageCPU(ctx context.Context, t cloud.Target, ids []string, from, to time.Time) (float64, bool, error) {
	if len(ids) == 0 {
		return 0, false, nil
	}
	var q []cwtypes.MetricDataQuery
	for i, id := range ids {
		q = append(q, cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("m%d", i)), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(id)}}},
			Period: aws.Int32(300), Stat: aws.String("Average")}})
	}
	var sum float64
	n := 0
	pg := cloudwatch.NewGetMetricDataPaginator(p.for_(t).cw, &cloudwatch.GetMetricDataInput{StartTime: &from, EndTime: &to, MetricDataQueries: q})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return 0, false, mapErr("get metric data", err)
		}
		for _, r := range page.MetricDataResults {
			for _, v := range r.Values {
				sum += v
				n++
			}
		}
	}
	if n == 0 {
		return 0, false, nil
	}
	return sum / float64(n), true, nil
}

// Check implements cloud.Roles: the role can be assumed.
func (p *Provider) Check(ctx context.Context, t cloud.Target) error {
	_, err := p.for_(t).sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	return mapErr("assume role", err)
}

// Cloud returns the provider as a cloud.Cloud.
func (p *Provider) Cloud() cloud.Cloud {
	return cloud.Cloud{Compute: p, AutoScaling: p, Metrics: p, Roles: p}
}
