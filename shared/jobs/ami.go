package jobs

import (
	"fmt"
	"regexp"

	"github.com/batchplane/batchplane/shared/errs"
)

var (
	amiRE    = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	subnetRE = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	sgRE     = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	vpcRE    = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	typeRE   = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

func requiredAMI(f errs.Fields, in Input) {
	if in.AmiID == nil {
		f.Add("AmiId", "AmiId is required.")
	}
	if in.InstanceType == nil {
		f.Add("InstanceType", "InstanceType is required.")
	}
}

// newAMI starts an AMI job at one instance; MinInstanceCount and
// MaxInstanceCount default to DesiredInstanceCount (-1 until validated).
func newAMI(j *Job, in Input) {
	j.AMI = &AMIConfig{DesiredInstanceCount: 1}
	if in.MinInstanceCount == nil {
		j.AMI.MinInstanceCount = -1
	}
	if in.MaxInstanceCount == nil {
		j.AMI.MaxInstanceCount = -1
	}
}

// validateAMI is the AMI job's validator: what to launch, where, how
// many, and the scaling policies.
func validateAMI(f errs.Fields, j *Job, in Input) {
	c := j.AMI
	if c == nil {
		return
	}
	if in.AutoScalingGroupName != nil || in.StandBy != nil || in.SuspendScalingOperations != nil || in.ReinstateOnStop != nil {
		f.Add("AutoScalingGroupName", "Auto Scaling Group parameters do not apply to an AMI job.")
	}
	validateAMILaunch(f, c, in)
	validateAMICounts(f, c, in)
	if in.ScalingPolicies != nil && len(*in.ScalingPolicies) > maxPolicies {
		f.Add("ScalingPolicies", fmt.Sprintf("ScalingPolicies must have at most %d entries.", maxPolicies))
	} else if in.ScalingPolicies != nil {
		ps := withPolicyDefaults(*in.ScalingPolicies)
		validatePolicies(f, ps)
		c.ScalingPolicies = ps
	}
}

// validateAMILaunch checks what an AMI job's instances are launched from
// and into.
func validateAMILaunch(f errs.Fields, c *AMIConfig, in Input) {
	setMatch(f, &c.AmiID, in.AmiID, "AmiId", amiRE, false, "AmiId must look like ami-0123456789abcdef0.")
	setMatch(f, &c.InstanceType, in.InstanceType, "InstanceType", typeRE, false, "InstanceType must look like t3.micro.")
	setString(f, &c.KeyPair, in.KeyPair, "KeyPair", 255, false)
	if in.LaunchScript != nil {
		if len(*in.LaunchScript) > 16<<10 {
			f.Add("LaunchScript", "LaunchScript must be at most 16 KiB.")
		} else {
			c.LaunchScript = *in.LaunchScript
		}
	}
	setString(f, &c.InstanceProfileArn, in.InstanceProfileArn, "InstanceProfileArn", 2048, false)
	setMatch(f, &c.VpcID, in.VpcID, "VpcId", vpcRE, true, "VpcId must look like vpc-0123456789abcdef0.")
	// AWS's own limits where it has them: a group's subnets (one per zone,
	// a few dozen at most), 16 security groups per interface, 50 classic
	// load balancers and 100 target groups per group; ELB names ≤ 32
	// characters, ARNs ≤ 2048.
	setList(f, &c.SubnetIDs, in.SubnetIDs, "SubnetIds", listLimit{entries: 100, entryLen: 24, re: subnetRE})
	setList(f, &c.SecurityGroupIDs, in.SecurityGroupIDs, "SecurityGroupIds", listLimit{entries: 16, entryLen: 20, re: sgRE})
	setList(f, &c.ElasticLoadBalancerNames, in.ElasticLoadBalancerNames, "ElasticLoadBalancerNames", listLimit{entries: 50, entryLen: 32})
	setList(f, &c.TargetGroupARNs, in.TargetGroupARNs, "TargetGroupARNs", listLimit{entries: 100, entryLen: 2048})
	if len(c.ElasticLoadBalancerNames) > 0 && len(c.TargetGroupARNs) > 0 {
		f.Add("TargetGroupARNs", "Elastic load balancer and Application load balancer can not be used together: send ElasticLoadBalancerNames or TargetGroupARNs, not both.")
	}
	setFlag(&c.AssociatePublicIPAddress, in.AssociatePublicIPAddress)
	setFlag(&c.ReplaceUnhealthyInstances, in.ReplaceUnhealthyInstances)
	setFlag(&c.RestrictToSelectedInstance, in.RestrictToSelectedInstance)
}

// validateAMICounts checks the counts: MinInstanceCount ≤
// DesiredInstanceCount ≤ MaxInstanceCount, at most Desired on-demand.
func validateAMICounts(f errs.Fields, c *AMIConfig, in Input) {
	setCount(f, &c.DesiredInstanceCount, in.DesiredInstanceCount, "DesiredInstanceCount")
	setCount(f, &c.MinInstanceCount, in.MinInstanceCount, "MinInstanceCount")
	setCount(f, &c.MaxInstanceCount, in.MaxInstanceCount, "MaxInstanceCount")
	setCount(f, &c.MinOnDemandInstanceCount, in.MinOnDemandInstanceCount, "MinOnDemandInstanceCount")
	setCount(f, &c.HealthCheckGracePeriod, in.HealthCheckGracePeriod, "HealthCheckGracePeriod")
	if c.MinInstanceCount < 0 {
		c.MinInstanceCount = c.DesiredInstanceCount
	}
	if c.MaxInstanceCount < 0 {
		c.MaxInstanceCount = c.DesiredInstanceCount
	}
	if !(c.MinInstanceCount <= c.DesiredInstanceCount && c.DesiredInstanceCount <= c.MaxInstanceCount) {
		f.Add("DesiredInstanceCount", "MinInstanceCount ≤ DesiredInstanceCount ≤ MaxInstanceCount must hold.")
	}
	if c.MinOnDemandInstanceCount > c.DesiredInstanceCount {
		f.Add("MinOnDemandInstanceCount", "MinOnDemandInstanceCount must not exceed DesiredInstanceCount.")
	}
}

// maxPolicies bounds an AMI job's scaling policies (one up and one down is
// the seed's example).
const maxPolicies = 10

// withPolicyDefaults fills what a policy may leave out with the only
// values batchplane supports (the seed shows them): Namespace AWS/EC2 and
// MetricStatisticType Average, so a stored policy always reads back whole.
func withPolicyDefaults(ps []ScalingPolicy) []ScalingPolicy {
	out := make([]ScalingPolicy, len(ps))
	for i, p := range ps {
		if p.Namespace == "" {
			p.Namespace = "AWS/EC2"
		}
		if p.MetricStatisticType == "" {
			p.MetricStatisticType = "Average"
		}
		out[i] = p
	}
	return out
}

// validatePolicies checks CPU scaling policies; each problem names its
// policy, ScalingPolicies[i].
func validatePolicies(f errs.Fields, ps []ScalingPolicy) {
	for i, p := range ps {
		field := fmt.Sprintf("ScalingPolicies[%d]", i)
		switch {
		case p.ScaleType != ScaleUp && p.ScaleType != ScaleDown:
			f.Add(field, "ScaleType must be ScaleUp or ScaleDown.")
		case p.MetricName != "CPUUtilization":
			f.Add(field, "MetricName must be CPUUtilization.")
		case p.Namespace != "" && p.Namespace != "AWS/EC2":
			f.Add(field, "Namespace must be AWS/EC2.")
		case p.MetricStatisticType != "" && p.MetricStatisticType != "Average":
			f.Add(field, "MetricStatisticType must be Average.")
		case p.Period < 60 || p.Period%60 != 0:
			f.Add(field, "Period must be a positive multiple of 60 seconds.")
		case p.EvaluationPeriods < 1 || p.EvaluationPeriods > 100:
			f.Add(field, "EvaluationPeriods must be from 1 to 100.")
		case p.ScaleFactor <= 0:
			f.Add(field, "ScaleFactor must be positive.")
		case len(p.Unit) > 32:
			f.Add(field, "Unit must be at most 32 characters.")
		case p.ScaleAt < 0 || p.ScaleAt > 100:
			f.Add(field, "ScaleAt must be a CPU percentage from 0 to 100.")
		}
	}
}
