package jobs

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/errs"
)

func ptr[T any](v T) *T { return &v }

// fieldsOf returns the names of the fields err complains about, sorted.
func fieldsOf(err error) []string {
	e := errs.As(err)
	if e == nil {
		return nil
	}
	var out []string
	for k := range e.Fields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func cpuPolicy(mod func(*ScalingPolicy)) []ScalingPolicy {
	p := ScalingPolicy{ScaleType: ScaleUp, MetricName: "CPUUtilization", Namespace: "AWS/EC2", MetricStatisticType: "Average",
		Period: 300, EvaluationPeriods: 2, ScaleAt: 70, ScaleFactor: 1}
	if mod != nil {
		mod(&p)
	}
	return []ScalingPolicy{p}
}

// newJob is a job of app as Create starts it.
func newJob(app string, in Input) Job {
	j := Job{App: app, BaseRegion: "us-east-1"}
	apps[app].newConfig(&j, in)
	return j
}

func TestValidateASG(t *testing.T) {
	tests := []struct {
		name       string
		in         Input
		wantFields []string
		want       ASGConfig
	}{
		{name: "valid", in: Input{Name: ptr(" nightly "), AutoScalingGroupName: ptr("web"), MinOnDemandInstanceCount: ptr(1),
			ReinstateOnStop: ptr(true), ReplaceUnhealthyInstances: ptr(true), StandBy: ptr(false), SuspendScalingOperations: ptr(true)},
			want: ASGConfig{AutoScalingGroupName: "web", MinOnDemandInstanceCount: 1, ReinstateOnStop: true, ReplaceUnhealthyInstances: true, SuspendScalingOperations: true}},
		{name: "group name empty", in: Input{AutoScalingGroupName: ptr("  ")}, wantFields: []string{"AutoScalingGroupName"}},
		{name: "group name 255 characters", in: Input{AutoScalingGroupName: ptr(strings.Repeat("g", 255))}, want: ASGConfig{AutoScalingGroupName: strings.Repeat("g", 255)}},
		{name: "group name 256 characters", in: Input{AutoScalingGroupName: ptr(strings.Repeat("g", 256))}, wantFields: []string{"AutoScalingGroupName"}},
		{name: "on-demand count negative", in: Input{MinOnDemandInstanceCount: ptr(-1)}, wantFields: []string{"MinOnDemandInstanceCount"}},
		{name: "on-demand count 10000", in: Input{MinOnDemandInstanceCount: ptr(10000)}, want: ASGConfig{MinOnDemandInstanceCount: 10000}},
		{name: "on-demand count 10001", in: Input{MinOnDemandInstanceCount: ptr(10001)}, wantFields: []string{"MinOnDemandInstanceCount"}},
		{name: "AMI parameters", in: Input{AmiID: ptr("ami-0123456789abcdef0")}, wantFields: []string{"AmiId"}},
		{name: "AMI scaling policies", in: Input{ScalingPolicies: &[]ScalingPolicy{}}, wantFields: []string{"AmiId"}},
		{name: "name too long", in: Input{Name: ptr(strings.Repeat("n", 129))}, wantFields: []string{"Name"}},
		{name: "unknown region", in: Input{BaseRegion: ptr("mars-1")}, wantFields: []string{"BaseRegion"}},
		{name: "SLA too long", in: Input{SLA: ptr(strings.Repeat("s", 65))}, wantFields: []string{"SLA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob(AppASG, tt.in)
			err := validate(&j, tt.in)
			if got, want := fieldsOf(err), tt.wantFields; !reflect.DeepEqual(got, want) {
				t.Fatalf("fields = %v, want %v (%v)", got, want, err)
			}
			if err == nil && !reflect.DeepEqual(*j.ASG, tt.want) {
				t.Errorf("config = %+v, want %+v", *j.ASG, tt.want)
			}
		})
	}
}

func TestValidateAMI(t *testing.T) {
	base := func(mod func(*Input)) Input {
		in := Input{Name: ptr("render"), AmiID: ptr("ami-0123456789abcdef0"), InstanceType: ptr("t3.micro")}
		if mod != nil {
			mod(&in)
		}
		return in
	}
	tests := []struct {
		name       string
		in         Input
		wantFields []string
		check      func(t *testing.T, c AMIConfig)
	}{
		{name: "minimal: one instance, min and max follow desired", in: base(nil), check: func(t *testing.T, c AMIConfig) {
			if c.DesiredInstanceCount != 1 || c.MinInstanceCount != 1 || c.MaxInstanceCount != 1 {
				t.Errorf("counts %d/%d/%d, want 1/1/1", c.MinInstanceCount, c.DesiredInstanceCount, c.MaxInstanceCount)
			}
		}},
		{name: "full", in: base(func(in *Input) {
			in.DesiredInstanceCount, in.MinInstanceCount, in.MaxInstanceCount, in.MinOnDemandInstanceCount = ptr(3), ptr(2), ptr(6), ptr(1)
			in.SubnetIDs, in.SecurityGroupIDs = &[]string{"subnet-0123abcd"}, &[]string{"sg-0123abcd"}
			in.VpcID, in.TargetGroupARNs = ptr("vpc-0123abcd"), &[]string{"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1"}
			in.LaunchScript, in.HealthCheckGracePeriod, in.ScalingPolicies = ptr("echo hi"), ptr(60), ptr(cpuPolicy(nil))
		}), check: func(t *testing.T, c AMIConfig) {
			if c.MinInstanceCount != 2 || c.DesiredInstanceCount != 3 || c.MaxInstanceCount != 6 || c.MinOnDemandInstanceCount != 1 ||
				c.VpcID != "vpc-0123abcd" || len(c.SubnetIDs) != 1 || len(c.ScalingPolicies) != 1 || c.LaunchScript != "echo hi" {
				t.Errorf("config %+v", c)
			}
		}},
		{name: "policy defaults", in: base(func(in *Input) {
			in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.Namespace, p.MetricStatisticType = "", "" }))
		}), check: func(t *testing.T, c AMIConfig) {
			if p := c.ScalingPolicies[0]; p.Namespace != "AWS/EC2" || p.MetricStatisticType != "Average" {
				t.Errorf("policy %+v, want Namespace AWS/EC2 and MetricStatisticType Average", p)
			}
		}},
		{name: "100 subnets", in: base(func(in *Input) { in.SubnetIDs = ptr(repeat("subnet-0123abcd", 100)) })},
		{name: "101 subnets", in: base(func(in *Input) { in.SubnetIDs = ptr(repeat("subnet-0123abcd", 101)) }), wantFields: []string{"SubnetIds"}},
		{name: "17 security groups", in: base(func(in *Input) { in.SecurityGroupIDs = ptr(repeat("sg-0123abcd", 17)) }), wantFields: []string{"SecurityGroupIds"}},
		{name: "ELB name over 32", in: base(func(in *Input) { in.ElasticLoadBalancerNames = ptr([]string{strings.Repeat("e", 33)}) }), wantFields: []string{"ElasticLoadBalancerNames"}},
		{name: "101 target groups", in: base(func(in *Input) { in.TargetGroupARNs = ptr(repeat("arn:tg", 101)) }), wantFields: []string{"TargetGroupARNs"}},
		{name: "target group ARN over 2048", in: base(func(in *Input) { in.TargetGroupARNs = ptr([]string{strings.Repeat("a", 2049)}) }), wantFields: []string{"TargetGroupARNs"}},
		{name: "11 policies", in: base(func(in *Input) { in.ScalingPolicies = ptr(repeat(cpuPolicy(nil)[0], 11)) }), wantFields: []string{"ScalingPolicies"}},
		{name: "policy unit over 32", in: base(func(in *Input) {
			in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.Unit = strings.Repeat("u", 33) }))
		}), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "empty VPC is allowed", in: base(func(in *Input) { in.VpcID = ptr("") })},
		{name: "bad AMI id", in: base(func(in *Input) { in.AmiID = ptr("ami-XYZ") }), wantFields: []string{"AmiId"}},
		{name: "bad instance type", in: base(func(in *Input) { in.InstanceType = ptr("huge") }), wantFields: []string{"InstanceType"}},
		{name: "bad VPC", in: base(func(in *Input) { in.VpcID = ptr("vpc-1") }), wantFields: []string{"VpcId"}},
		{name: "bad subnet", in: base(func(in *Input) { in.SubnetIDs = &[]string{"subnet-0123abcd", "net-1"} }), wantFields: []string{"SubnetIds"}},
		{name: "bad security group", in: base(func(in *Input) { in.SecurityGroupIDs = &[]string{"sg-x"} }), wantFields: []string{"SecurityGroupIds"}},
		{name: "ELB and target groups together", in: base(func(in *Input) {
			in.ElasticLoadBalancerNames, in.TargetGroupARNs = &[]string{"elb"}, &[]string{"arn:tg"}
		}), wantFields: []string{"TargetGroupARNs"}},
		{name: "launch script 16 KiB", in: base(func(in *Input) { in.LaunchScript = ptr(strings.Repeat("x", 16<<10)) })},
		{name: "launch script over 16 KiB", in: base(func(in *Input) { in.LaunchScript = ptr(strings.Repeat("x", 16<<10+1)) }), wantFields: []string{"LaunchScript"}},
		{name: "key pair too long", in: base(func(in *Input) { in.KeyPair = ptr(strings.Repeat("k", 256)) }), wantFields: []string{"KeyPair"}},
		{name: "desired above max", in: base(func(in *Input) { in.DesiredInstanceCount, in.MaxInstanceCount = ptr(3), ptr(2) }), wantFields: []string{"DesiredInstanceCount"}},
		{name: "desired below min", in: base(func(in *Input) { in.DesiredInstanceCount, in.MinInstanceCount = ptr(1), ptr(2) }), wantFields: []string{"DesiredInstanceCount"}},
		{name: "desired out of bounds", in: base(func(in *Input) { in.DesiredInstanceCount = ptr(10001) }), wantFields: []string{"DesiredInstanceCount"}},
		{name: "negative grace period", in: base(func(in *Input) { in.HealthCheckGracePeriod = ptr(-1) }), wantFields: []string{"HealthCheckGracePeriod"}},
		{name: "on-demand above desired", in: base(func(in *Input) { in.MinOnDemandInstanceCount = ptr(2) }), wantFields: []string{"MinOnDemandInstanceCount"}},
		{name: "ASG parameters", in: base(func(in *Input) { in.StandBy = ptr(true) }), wantFields: []string{"AutoScalingGroupName"}},
		{name: "policy scale type", in: base(func(in *Input) { in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.ScaleType = "Up" })) }), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "policy metric", in: base(func(in *Input) {
			in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.MetricName = "NetworkIn" }))
		}), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "policy namespace", in: base(func(in *Input) {
			in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.Namespace = "AWS/ELB" }))
		}), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "policy statistic", in: base(func(in *Input) {
			in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.MetricStatisticType = "Maximum" }))
		}), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "policy period not a multiple of 60", in: base(func(in *Input) { in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.Period = 90 })) }), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "policy evaluation periods 0", in: base(func(in *Input) {
			in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.EvaluationPeriods = 0 }))
		}), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "policy evaluation periods 101", in: base(func(in *Input) {
			in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.EvaluationPeriods = 101 }))
		}), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "policy scale factor 0", in: base(func(in *Input) { in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.ScaleFactor = 0 })) }), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "policy threshold above 100", in: base(func(in *Input) { in.ScalingPolicies = ptr(cpuPolicy(func(p *ScalingPolicy) { p.ScaleAt = 101 })) }), wantFields: []string{"ScalingPolicies[0]"}},
		{name: "second policy named", in: base(func(in *Input) {
			in.ScalingPolicies = &[]ScalingPolicy{cpuPolicy(nil)[0], cpuPolicy(func(p *ScalingPolicy) { p.ScaleAt = -1 })[0]}
		}), wantFields: []string{"ScalingPolicies[1]"}},
		{name: "several fields at once", in: base(func(in *Input) { in.AmiID, in.InstanceType = ptr("x"), ptr("y") }), wantFields: []string{"AmiId", "InstanceType"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob(AppAMI, tt.in)
			err := validate(&j, tt.in)
			if got, want := fieldsOf(err), tt.wantFields; !reflect.DeepEqual(got, want) {
				t.Fatalf("fields = %v, want %v (%v)", got, want, err)
			}
			if err == nil && tt.check != nil {
				tt.check(t, *j.AMI)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	acc := ptr("A-1")
	tests := []struct {
		name       string
		app        string
		in         Input
		wantFields []string
	}{
		{"ASG complete", AppASG, Input{AccountID: acc, Name: ptr("n"), AutoScalingGroupName: ptr("g")}, nil},
		{"ASG without group", AppASG, Input{AccountID: acc, Name: ptr("n")}, []string{"AutoScalingGroupName"}},
		{"AMI complete", AppAMI, Input{AccountID: acc, Name: ptr("n"), AmiID: ptr("a"), InstanceType: ptr("t")}, nil},
		{"AMI without image and type", AppAMI, Input{AccountID: acc, Name: ptr("n")}, []string{"AmiId", "InstanceType"}},
		{"no account, no name", AppASG, Input{AccountID: ptr(""), AutoScalingGroupName: ptr("g")}, []string{"AccountId", "Name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := fieldsOf(required(tt.app, tt.in)), tt.wantFields; !reflect.DeepEqual(got, want) {
				t.Errorf("fields = %v, want %v", got, want)
			}
		})
	}
}

// repeat returns n copies of v.
func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}
