package api_test

import (
	"fmt"
	"testing"

	"github.com/batchplane/batchplane/shared/identity"
)

// Fixtures of the security suite that need more than newEnv: a run (the
// state machine must start it: newLocalEnv in helpers_test.go) and a user in
// another team only.

// startRun executes an Auto Scaling Group job as the Administrator and
// returns its run request and run ids.
func (e *env) startRun(t *testing.T, job string) (request, run string) {
	t.Helper()
	request = e.do("POST", "/api/v2/apps/AutoScalingGroup/"+job+"/execute", &e.admin, nil).want(t, 202).Body["RunRequestId"].(string)
	run = e.do("GET", "/api/runs/Check/"+request, &e.admin, nil).want(t, 200).data().(string)
	return request, run
}

// userOnlyIn creates a User who is in team only (taken out of the default
// team) and returns their id.
func (e *env) userOnlyIn(t *testing.T, name, team string) string {
	t.Helper()
	k := e.newUser(name, identity.RoleUser)
	e.do("POST", "/api/v2/Teams/"+team+"/Users", &e.admin, map[string]any{"UserName": name}).want(t, 200)
	e.do("DELETE", "/api/v2/Teams/"+identity.DefaultTeamName+"/Users/"+name, &e.admin, nil).want(t, 200)
	return fmt.Sprint(k.UserID)
}
