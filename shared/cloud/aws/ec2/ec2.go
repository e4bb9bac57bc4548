// Package ec2 implements cloud.Compute on customers' accounts with EC2:
// launching, describing and terminating run instances. It is a package of
// its own so that only the functions that launch or describe instances
// (the run workflow's) link these EC2 operations.
package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/batchplane/batchplane/shared/cloud"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
)

var _ cloud.Compute = (*Compute)(nil)

// Compute implements cloud.Compute.
type Compute struct {
	ec2 *cloudaws.Clients[*ec2.Client]
}

// New returns the compute of the targets p configures (cloudaws.New).
func New(p cloudaws.Configs) *Compute {
	return &Compute{ec2: cloudaws.NewClients[*ec2.Client](p)}
}

// client is the EC2 client of target t.
func (c *Compute) client(t cloud.Target) *ec2.Client { return c.ec2.For(t, newClient) }

func newClient(cfg aws.Config) *ec2.Client { return ec2.NewFromConfig(cfg) }

// Launch implements cloud.Compute: RunInstances with the spot market
// options for spot, the ClientToken for idempotency and the run's tags.
func (c *Compute) Launch(ctx context.Context, t cloud.Target, s cloud.LaunchSpec) ([]cloud.Instance, error) {
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
	out, err := c.client(t).RunInstances(ctx, in)
	if err != nil {
		return nil, cloudaws.Err("run instances", err)
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
func (c *Compute) Terminate(ctx context.Context, t cloud.Target, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.client(t).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err = cloudaws.Err("terminate", err); errors.Is(err, cloud.ErrNotFound) {
		return nil
	}
	return err
}

func (c *Compute) describe(ctx context.Context, t cloud.Target, in *ec2.DescribeInstancesInput) ([]cloud.Instance, error) {
	cl := c.client(t)
	var out []cloud.Instance
	pg := ec2.NewDescribeInstancesPaginator(cl, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, cloudaws.Err("describe instances", err)
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
	st, err := cl.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids})
	if err != nil {
		return nil, cloudaws.Err("describe instance status", err)
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
func (c *Compute) Describe(ctx context.Context, t cloud.Target, ids []string) ([]cloud.Instance, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return c.describe(ctx, t, &ec2.DescribeInstancesInput{InstanceIds: ids})
}

// DescribeRun implements cloud.Compute.
func (c *Compute) DescribeRun(ctx context.Context, t cloud.Target, runID string) ([]cloud.Instance, error) {
	return c.describe(ctx, t, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:" + cloud.TagRun), Values: []string{runID}}}})
}
