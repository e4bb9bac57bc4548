package api_test

import (
	"testing"

	"github.com/batchplane/batchplane/shared/identity"
)

func TestProjectsLifecycle(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	acc := e.do("POST", "/api/Accounts/AWS", a, map[string]any{"Name": "b", "BaseRegion": "us-west-2", "RoleArn": role}).want(t, 201).data().(map[string]any)["Id"].(string)
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no account", map[string]any{"Name": "p"}, "AccountId"},
		{"unknown account", map[string]any{"Name": "p", "AccountId": "A-00000000"}, "AccountId"},
		{"bad region", map[string]any{"Name": "p", "AccountId": acc, "Region": "mars-1"}, "Region"},
		{"bad vpc", map[string]any{"Name": "p", "AccountId": acc, "VpcId": "vpc-x"}, "VpcId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do("POST", "/api/Projects/Add", a, tt.body).want(t, 400); r.errors()[tt.field] == nil {
				t.Fatalf("Errors %v", r.errors())
			}
		})
	}
	p := e.do("POST", "/api/Projects/Add", a, map[string]any{"Name": "etl", "AccountId": acc, "VpcId": "vpc-0123456789abcdef0"}).want(t, 201).data().(map[string]any)
	id := p["Id"].(string)
	if p["Region"] != "us-west-2" {
		t.Fatalf("project %v: region should default to the account's", p)
	}
	e.do("PUT", "/api/Projects/"+id, a, map[string]any{"Name": "etl2", "Region": "us-east-1"}).want(t, 200)
	if got := e.do("GET", "/api/Projects/"+id, a, nil).want(t, 200).data().(map[string]any); got["Name"] != "etl2" || got["Region"] != "us-east-1" {
		t.Fatalf("updated %v", got)
	}
	if n := len(e.do("GET", "/api/Projects", a, nil).want(t, 200).data().([]any)); n != 1 {
		t.Fatalf("%d projects", n)
	}
	// A user of another team sees nothing; a non-admin cannot write.
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Other"}).want(t, 201)
	acc2 := e.do("POST", "/api/Accounts/AWS", a, map[string]any{"Name": "o", "BaseRegion": "us-west-2", "RoleArn": role, "Teams": []string{"Other"}}).want(t, 201).data().(map[string]any)["Id"].(string)
	p2 := e.do("POST", "/api/Projects/Add", a, map[string]any{"Name": "hidden", "AccountId": acc2}).want(t, 201).data().(map[string]any)["Id"].(string)
	bob := e.newUser("bob@example.com", identity.RoleUser)
	e.do("GET", "/api/Projects/"+p2, &bob, nil).want(t, 404)
	e.do("DELETE", "/api/Projects/"+p2, &bob, nil).want(t, 404)
	e.do("PUT", "/api/Projects/"+id, &bob, map[string]any{"Name": "x"}).want(t, 403)
	// A project, and its account, with jobs cannot be deleted.
	job := e.do("POST", "/api/v2/apps/Ami/Add", a, map[string]any{"AccountId": acc, "Name": "j", "ProjectId": id,
		"AmiId": "ami-0123456789abcdef0", "InstanceType": "t3.micro"}).want(t, 201).Body["Job"].(map[string]any)["Id"].(string)
	e.do("DELETE", "/api/Projects/"+id, a, nil).want(t, 409)
	e.do("DELETE", "/api/accounts/"+acc, a, nil).want(t, 409)
	e.do("DELETE", "/api/v2/apps/Ami/"+job, a, nil).want(t, 200)
	e.do("DELETE", "/api/Projects/"+id, a, nil).want(t, 200)
	e.do("GET", "/api/Projects/"+id, a, nil).want(t, 404)
	e.do("DELETE", "/api/accounts/"+acc, a, nil).want(t, 200)
}

func TestJobsScopeAndValidation(t *testing.T) {
	e := newEnv(t)
	a := &e.admin
	acc := e.do("POST", "/api/accounts/CloudFrontAWS", a, map[string]any{"Name": "x", "BaseRegion": "us-east-1", "RoleArn": role}).want(t, 201).data().(map[string]any)["Id"].(string)
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{"AccountId": acc, "Name": "ami", "AmiId": "ami-0123456789abcdef0", "InstanceType": "t3.micro"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"bad ami", base(map[string]any{"AmiId": "ami-x"}), "AmiId"},
		{"bad type", base(map[string]any{"InstanceType": "huge"}), "InstanceType"},
		{"min over desired", base(map[string]any{"DesiredInstanceCount": 2, "MinInstanceCount": 3, "MaxInstanceCount": 4}), "DesiredInstanceCount"},
		{"on-demand over desired", base(map[string]any{"DesiredInstanceCount": 1, "MinOnDemandInstanceCount": 2}), "MinOnDemandInstanceCount"},
		{"bad policy", base(map[string]any{"ScalingPolicies": []map[string]any{{"ScaleType": "Sideways", "MetricName": "CPUUtilization", "Period": 300, "EvaluationPeriods": 1, "ScaleFactor": 1}}}), "ScalingPolicies[0]"},
		{"asg field on ami", base(map[string]any{"StandBy": true}), "AutoScalingGroupName"},
		{"unknown field", base(map[string]any{"Spot": true}), "Spot"},
		{"bad subnet", base(map[string]any{"SubnetIds": []string{"net-1"}}), "SubnetIds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do("POST", "/api/v2/apps/Ami/Add", a, tt.body).want(t, 400); r.errors()[tt.field] == nil {
				t.Fatalf("Errors %v", r.errors())
			}
		})
	}
	job := e.do("POST", "/api/v2/apps/Ami/Add", a, base(map[string]any{"ScalingPolicies": []map[string]any{
		{"ScaleType": "ScaleUp", "MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "MetricStatisticType": "Average", "Period": 300, "EvaluationPeriods": 1, "ScaleAt": 80, "ScaleFactor": 1, "Unit": "Percent"},
	}, "DesiredInstanceCount": 2, "MaxInstanceCount": 4})).want(t, 201).Body["Job"].(map[string]any)["Id"].(string)
	// An AMI job is not an ASG job.
	e.do("GET", "/api/v2/apps/AutoScalingGroup/"+job, a, nil).want(t, 404)
	e.do("PUT", "/api/v2/apps/Ami/"+job, a, map[string]any{"MinInstanceCount": 3}).want(t, 400)
	e.do("PUT", "/api/v2/apps/Ami/"+job, a, map[string]any{"Name": "renamed", "MaxInstanceCount": 6}).want(t, 200)
	got := e.do("GET", "/api/v2/apps/Ami/"+job, a, nil).want(t, 200).Body["Job"].(map[string]any)
	if got["Name"] != "renamed" || got["MaxInstanceCount"] != 6.0 || len(got["ScalingPolicies"].([]any)) != 1 {
		t.Fatalf("job %v", got)
	}
	bob := e.newUser("bob@example.com", identity.RoleUser)
	e.do("POST", "/api/v2/Teams", a, map[string]any{"Name": "Other"}).want(t, 201)
	e.do("PUT", "/api/accounts/"+acc, a, map[string]any{"Teams": []string{"Other"}}).want(t, 200)
	// A job belongs to its account's teams as they are now (issue 7
	// finding 3): bob is in Organization, the account moved to Other.
	if n := len(e.do("GET", "/api/Jobs", &bob, nil).want(t, 200).data().([]any)); n != 0 {
		t.Fatalf("bob sees %d jobs", n)
	}
	acc2 := e.do("POST", "/api/accounts/CloudFrontAWS", a, map[string]any{"Name": "y", "BaseRegion": "us-east-1", "RoleArn": role, "Teams": []string{"Other"}}).want(t, 201).data().(map[string]any)["Id"].(string)
	hidden := e.do("POST", "/api/v2/apps/Ami/Add", a, map[string]any{"AccountId": acc2, "Name": "h", "AmiId": "ami-0123456789abcdef0", "InstanceType": "t3.micro"}).want(t, 201).Body["Job"].(map[string]any)["Id"].(string)
	for _, p := range []struct{ m, path string }{{"GET", "/api/v2/apps/Ami/" + hidden}, {"DELETE", "/api/v2/apps/Ami/" + hidden}, {"POST", "/api/v2/apps/Ami/" + hidden + "/execute"}} {
		e.do(p.m, p.path, &bob, nil).want(t, 404)
	}
	e.do("POST", "/api/v2/apps/Ami/Add", &bob, map[string]any{"AccountId": acc2, "Name": "h", "AmiId": "ami-0123456789abcdef0", "InstanceType": "t3.micro"}).want(t, 400)
}
