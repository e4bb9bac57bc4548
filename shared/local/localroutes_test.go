package local_test

import (
	"context"
	"testing"

	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

// TestLocalRoutesRules (issue 7 finding 7, API5:2023 Broken Function Level
// Authorization and API1:2023 Broken Object Level Authorization): only an
// Administrator creates a local group (its launch script runs on this
// machine), and a fault is injected only into an instance of a run the
// caller sees.
func TestLocalRoutesRules(t *testing.T) {
	db := storetest.Client(t)
	h := start(t, wire(t, storetest.NewTable(t, db), ""), nil)
	defer h.close()
	job := h.setup() // an ASG job on an account of the default team
	h.must(201, "POST", "/api/v2/Teams", map[string]any{"Name": "Ops"})
	ops := h.must(201, "POST", "/api/accounts/CloudFrontAWS", map[string]any{"Name": "ops", "BaseRegion": "us-east-1",
		"RoleArn": "arn:aws:iam::123456789012:role/batchplane", "Teams": []string{"Ops"}})["Data"].(map[string]any)["Id"].(string)
	opsJob := h.must(201, "POST", "/api/v2/apps/AutoScalingGroup/Add", map[string]any{"AccountId": ops, "Name": "ops job",
		"AutoScalingGroupName": "local-asg", "MinOnDemandInstanceCount": 0})["Job"].(map[string]any)["Id"].(string)
	req := h.must(202, "POST", "/api/v2/apps/AutoScalingGroup/"+opsJob+"/execute", nil)["RunRequestId"].(string)
	run := h.must(200, "GET", "/api/runs/Check/"+req, nil)["Data"].(string)
	var instance string
	eventually(t, "an instance", func() bool {
		if list := h.instances(run); len(list) > 0 {
			instance = list[0]["InstanceId"].(string)
		}
		return instance != ""
	})

	h.must(201, "POST", "/api/users", map[string]any{"UserName": "dev@example.com", "FullName": "Dev", "Role": "User"})
	u, err := h.rt.Service.Store.GetUserByName(context.Background(), "dev@example.com")
	if err != nil {
		t.Fatal(err)
	}
	admin := identity.WithPrincipal(context.Background(), identity.Principal{User: identity.User{ID: 1, Role: identity.RoleAdministrator}})
	key, err := h.rt.Service.Identity.CreateKey(admin, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	dev := *h
	dev.admin = key
	acc := accountOf(h, job)
	dev.must(200, "GET", "/api/accounts/"+acc, nil) // the default team's account is the user's too
	dev.must(403, "POST", "/local/accounts/"+acc+"/AutoScalingGroups", map[string]any{"Name": "mine", "LaunchScript": "id"})
	dev.must(404, "POST", "/local/instances/"+instance+"/faults", map[string]any{"Fault": "unhealthy"})
	dev.must(404, "POST", "/local/instances/i-00000000000000000/faults", map[string]any{"Fault": "unhealthy"})
	h.must(202, "POST", "/local/instances/"+instance+"/faults", map[string]any{"Fault": "unhealthy"})
	h.must(201, "POST", "/local/accounts/"+acc+"/AutoScalingGroups", map[string]any{"Name": "admins", "LaunchScript": "true"})
	h.must(200, "PUT", "/api/runs/"+run, nil)
}
