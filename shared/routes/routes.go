// Package routes is the single source of truth for batchplane's HTTP surface:
// the router in shared/api binds a handler to each route, the CDK stack in
// infra/ creates one API Gateway route per path casing, and template.yaml is
// compared against this table by the drift test. It imports nothing so that
// the infra module can read it without pulling in the service.
package routes

// Route is one documented HTTP route.
type Route struct {
	// Name identifies the handler the router binds to this route.
	Name string
	// Method is the HTTP method.
	Method string
	// Path is the path as the seed documents it, with {param} placeholders.
	Path string
	// Aliases are the other casings or spellings the seeds use for the same
	// route. API Gateway route keys are case-sensitive, so each alias becomes
	// its own route key in AWS; locally the router matches case-insensitively.
	Aliases []string
	// Function is the Lambda function (functions/<Function>) that serves it.
	Function string
	// Public routes need no authentication (only the health check).
	Public bool
	// LocalOnly routes exist only under `make run` (fault injection into the
	// local cloud); they are absent from the CDK stack and template.yaml.
	LocalOnly bool
}

// Paths returns the route's path followed by its aliases.
func (r Route) Paths() []string {
	return append([]string{r.Path}, r.Aliases...)
}

// Functions lists every deployed HTTP Lambda function, in the order the
// table names them.
func Functions() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range Deployed() {
		if !seen[r.Function] {
			seen[r.Function] = true
			out = append(out, r.Function)
		}
	}
	return out
}

// Function names.
const (
	FnAccounts = "accounts"
	FnUsers    = "users"
	FnTeams    = "teams"
	FnRegions  = "regions"
	FnKeys     = "keys"
	FnMeta     = "meta"
	FnProjects = "projects"
	FnJobs     = "jobs"
	FnApps     = "apps"
	FnRuns     = "runs"
	FnLocal    = "local"
)

// All is every route batchplane serves in AWS and locally.
var All = []Route{
	// meta: health and the API description.
	{Name: "health", Method: "GET", Path: "/health", Function: FnMeta, Public: true},
	{Name: "openapi", Method: "GET", Path: "/api/openapi.json", Function: FnMeta},

	// Accounts: cmpute.io (seed 001) and Batchly (seed 000).
	{Name: "accounts.list", Method: "GET", Path: "/api/accounts", Aliases: []string{"/api/Accounts"}, Function: FnAccounts},
	{Name: "accounts.get", Method: "GET", Path: "/api/accounts/{id}", Aliases: []string{"/api/Accounts/{id}"}, Function: FnAccounts},
	{Name: "accounts.add", Method: "POST", Path: "/api/accounts/CloudFrontAWS", Aliases: []string{"/api/Accounts/AWS"}, Function: FnAccounts},
	{Name: "accounts.update", Method: "PUT", Path: "/api/accounts/{id}", Aliases: []string{"/api/Accounts/{id}"}, Function: FnAccounts},
	{Name: "accounts.delete", Method: "DELETE", Path: "/api/accounts/{id}", Aliases: []string{"/api/Accounts/{id}"}, Function: FnAccounts},

	// Users (seed 001).
	{Name: "users.list", Method: "GET", Path: "/api/users", Function: FnUsers},
	{Name: "users.get", Method: "GET", Path: "/api/users/{id}", Function: FnUsers},
	{Name: "users.add", Method: "POST", Path: "/api/users", Function: FnUsers},
	{Name: "users.update", Method: "PUT", Path: "/api/users/{id}", Function: FnUsers},
	{Name: "users.teams", Method: "GET", Path: "/api/v2/Users/Teams", Function: FnUsers},

	// Teams (seed 001, v2 shapes). {id} is a team id or, as the seed's
	// example shows, a team name.
	{Name: "teams.list", Method: "GET", Path: "/api/v2/Teams", Function: FnTeams},
	{Name: "teams.get", Method: "GET", Path: "/api/v2/Teams/{id}", Function: FnTeams},
	{Name: "teams.add", Method: "POST", Path: "/api/v2/Teams", Function: FnTeams},
	{Name: "teams.update", Method: "PUT", Path: "/api/v2/Teams/{id}", Function: FnTeams},
	{Name: "teams.delete", Method: "DELETE", Path: "/api/v2/Teams/{id}", Function: FnTeams},
	{Name: "teams.users", Method: "GET", Path: "/api/v2/Teams/{id}/Users", Function: FnTeams},
	{Name: "teams.addUsers", Method: "POST", Path: "/api/v2/Teams/{id}/Users", Function: FnTeams},

	// Regions (seed 001), also under the documented doubled prefix.
	{Name: "regions.list", Method: "GET", Path: "/api/caches/regions", Aliases: []string{"/api/api/caches/regions"}, Function: FnRegions},

	// API keys (not in the seeds; see docs/api.md).
	{Name: "keys.list", Method: "GET", Path: "/api/keys", Function: FnKeys},
	{Name: "keys.add", Method: "POST", Path: "/api/keys", Function: FnKeys},
	{Name: "keys.revoke", Method: "DELETE", Path: "/api/keys/{id}", Function: FnKeys},

	// Projects (Batchly, seed 000).
	{Name: "projects.list", Method: "GET", Path: "/api/Projects", Function: FnProjects},
	{Name: "projects.get", Method: "GET", Path: "/api/Projects/{id}", Function: FnProjects},
	{Name: "projects.add", Method: "POST", Path: "/api/Projects/Add", Function: FnProjects},
	{Name: "projects.update", Method: "PUT", Path: "/api/Projects/{id}", Function: FnProjects},
	{Name: "projects.delete", Method: "DELETE", Path: "/api/Projects/{id}", Function: FnProjects},

	// Jobs common to all apps (seed 001 and Batchly's seed 000).
	{Name: "jobs.list", Method: "GET", Path: "/api/jobs", Aliases: []string{"/api/Jobs"}, Function: FnJobs},

	// Auto Scaling Group app (seed 001). The account's groups are read
	// through the account's role.
	{Name: "asg.groups", Method: "GET", Path: "/api/Accounts/{id}/AutoScalingGroups", Function: FnApps},
	{Name: "asg.group", Method: "GET", Path: "/api/Accounts/{id}/AutoScalingGroups/{name}", Function: FnApps},
	{Name: "asg.get", Method: "GET", Path: "/api/v2/apps/AutoScalingGroup/{id}", Aliases: []string{"/api/api/v2/apps/AutoScalingGroup/{id}"}, Function: FnApps},
	{Name: "asg.add", Method: "POST", Path: "/api/v2/apps/AutoScalingGroup/Add", Function: FnApps},
	{Name: "asg.update", Method: "PUT", Path: "/api/v2/apps/AutoScalingGroup/{id}", Function: FnApps},
	{Name: "asg.delete", Method: "DELETE", Path: "/api/v2/apps/AutoScalingGroup/{id}", Function: FnApps},
	{Name: "asg.execute", Method: "POST", Path: "/api/v2/apps/AutoScalingGroup/{id}/execute", Function: FnApps},

	// AMI app (seed 001).
	{Name: "ami.get", Method: "GET", Path: "/api/v2/apps/Ami/{id}", Function: FnApps},
	{Name: "ami.add", Method: "POST", Path: "/api/v2/apps/Ami/Add", Function: FnApps},
	{Name: "ami.update", Method: "PUT", Path: "/api/v2/apps/Ami/{id}", Function: FnApps},
	{Name: "ami.delete", Method: "DELETE", Path: "/api/v2/apps/Ami/{id}", Function: FnApps},
	{Name: "ami.execute", Method: "POST", Path: "/api/v2/apps/Ami/{id}/execute", Function: FnApps},

	// Runs: cmpute (seed 001) and Batchly (seed 000).
	{Name: "runs.check", Method: "GET", Path: "/api/runs/Check/{id}", Function: FnRuns},
	{Name: "runs.stop", Method: "PUT", Path: "/api/runs/{id}", Aliases: []string{"/api/Runs/{id}"}, Function: FnRuns},
	{Name: "runs.list", Method: "GET", Path: "/api/Runs", Function: FnRuns},
	{Name: "runs.get", Method: "GET", Path: "/api/Runs/{id}", Aliases: []string{"/api/runs/{id}"}, Function: FnRuns},
	{Name: "runs.delete", Method: "DELETE", Path: "/api/Runs/{id}", Aliases: []string{"/api/runs/{id}"}, Function: FnRuns},
	{Name: "runs.summary", Method: "GET", Path: "/api/v2/runs/{id}/summary", Function: FnRuns},
	{Name: "runs.instances", Method: "GET", Path: "/api/runs/{id}/Instances", Function: FnRuns},
	{Name: "runs.logs", Method: "GET", Path: "/api/v2/runs/{id}/logs", Function: FnRuns},
	{Name: "runs.rightsize", Method: "GET", Path: "/api/v2/runs/{id}/RightSizeRecommendations", Function: FnRuns},

	// Local-only: drive the local cloud (absent from AWS deployments).
	{Name: "local.groups.add", Method: "POST", Path: "/local/accounts/{id}/AutoScalingGroups", Function: FnLocal, LocalOnly: true},
	{Name: "local.instances.fault", Method: "POST", Path: "/local/instances/{id}/faults", Function: FnLocal, LocalOnly: true},
}

// Deployed returns the routes that exist in AWS (all but LocalOnly).
func Deployed() []Route {
	var out []Route
	for _, r := range All {
		if !r.LocalOnly {
			out = append(out, r)
		}
	}
	return out
}

// DefaultFunction serves API Gateway's $default route: it runs the whole
// router, so a path literal in a casing the seeds never wrote (say
// /API/ACCOUNTS) answers in AWS exactly as it does locally, where the router
// matches path literals case-insensitively.
const DefaultFunction = "api"

// Table describes the single DynamoDB table every function uses. The store
// package builds the items; infra and the local launcher create the table.
var Table = struct {
	PartitionKey, SortKey string
	GSIs                  []GSI
	TTLAttribute          string
}{
	PartitionKey: "PK",
	SortKey:      "SK",
	GSIs: []GSI{
		{Name: "GSI1", PartitionKey: "GSI1PK", SortKey: "GSI1SK"},
		{Name: "GSI2", PartitionKey: "GSI2PK", SortKey: "GSI2SK"},
	},
	TTLAttribute: "ExpiresAt",
}

// GSI is a global secondary index of the table; all attributes are projected.
type GSI struct {
	Name, PartitionKey, SortKey string
}

// Environment variables every function reads (see shared/app).
const (
	EnvTable  = "BP_TABLE"   // the DynamoDB table name
	EnvKMSKey = "BP_KMS_KEY" // the KMS key id or ARN that seals API secrets
	EnvRegion = "BP_REGION"  // the region SigV4 signatures are scoped to
	// EnvStateMachine is the run state machine's ARN (functions that start
	// or resume runs).
	EnvStateMachine = "BP_STATE_MACHINE"
)
