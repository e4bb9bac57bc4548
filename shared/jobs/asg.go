package jobs

import "github.com/batchplane/batchplane/shared/errs"

func requiredASG(f errs.Fields, in Input) {
	if in.AutoScalingGroupName == nil {
		f.Add("AutoScalingGroupName", "AutoScalingGroupName is required.")
	}
}

func newASG(j *Job, _ Input) { j.ASG = &ASGConfig{} }

// validateASG is the Auto Scaling Group job's validator.
func validateASG(f errs.Fields, j *Job, in Input) {
	c := j.ASG
	if c == nil {
		return
	}
	setString(f, &c.AutoScalingGroupName, in.AutoScalingGroupName, "AutoScalingGroupName", 255, true)
	setCount(f, &c.MinOnDemandInstanceCount, in.MinOnDemandInstanceCount, "MinOnDemandInstanceCount")
	setFlag(&c.ReinstateOnStop, in.ReinstateOnStop)
	setFlag(&c.ReplaceUnhealthyInstances, in.ReplaceUnhealthyInstances)
	setFlag(&c.RestrictToSelectedInstance, in.RestrictToSelectedInstance)
	setFlag(&c.StandBy, in.StandBy)
	setFlag(&c.SuspendScalingOperations, in.SuspendScalingOperations)
	if amiOnly(in) {
		f.Add("AmiId", "AMI parameters do not apply to an Auto Scaling Group job.")
	}
}

// amiOnly reports whether in sets parameters only an AMI job has.
func amiOnly(in Input) bool {
	return in.AmiID != nil || in.InstanceType != nil || in.LaunchScript != nil || in.DesiredInstanceCount != nil ||
		in.ScalingPolicies != nil || in.SubnetIDs != nil || in.TargetGroupARNs != nil || in.ElasticLoadBalancerNames != nil
}
