// Package batchnet finds the network of AWS Batch's compute environment in
// a customer's account through EC2. It is apart from package batch so that
// only the function that creates compute environments (batch-dispatch:
// app.WithAWSBatch(batch.NewWith(batch.WithNetwork(batchnet.Find)))) links
// EC2's SDK client: the batches HTTP function reads jobs and logs,
// and never creates one.
package batchnet

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/batchplane/batchplane/shared/cloud"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
)

// Find returns the subnets and security groups of the compute
// environment: those tagged cloud.TagBatchNetwork when any subnet is, else the
// default VPC's default subnets and its default security group.
func Find(ctx context.Context, cfg aws.Config) (subnets, groups []string, err error) {
	c := ec2.NewFromConfig(cfg)
	tagged := []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{cloud.TagBatchNetwork}}}
	sn, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: tagged})
	if err != nil {
		return nil, nil, cloudaws.MapErr("describe subnets", err, nil)
	}
	var vpc string
	if len(sn.Subnets) == 0 {
		vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
		if err != nil {
			return nil, nil, cloudaws.MapErr("describe default VPC", err, nil)
		}
		if len(vpcs.Vpcs) == 0 {
			return nil, nil, fmt.Errorf("no network for AWS Batch: tag subnets %s or keep the region's default VPC: %w", cloud.TagBatchNetwork, cloud.ErrNotFound)
		}
		vpc = aws.ToString(vpcs.Vpcs[0].VpcId)
		sn, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("default-for-az"), Values: []string{"true"}}}})
		if err != nil {
			return nil, nil, cloudaws.MapErr("describe default subnets", err, nil)
		}
	} else {
		vpc = aws.ToString(sn.Subnets[0].VpcId)
	}
	for _, s := range sn.Subnets {
		subnets = append(subnets, aws.ToString(s.SubnetId))
	}
	if len(subnets) == 0 {
		return nil, nil, fmt.Errorf("no subnets in VPC %s for AWS Batch: %w", vpc, cloud.ErrNotFound)
	}
	sg, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("tag-key"), Values: []string{cloud.TagBatchNetwork}}}})
	if err == nil && len(sg.SecurityGroups) == 0 {
		sg, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	}
	if err != nil {
		return nil, nil, cloudaws.MapErr("describe security groups", err, nil)
	}
	for _, g := range sg.SecurityGroups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	return subnets, groups, nil
}
