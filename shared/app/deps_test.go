package app_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

// TestFunctionDependencies reads `go list -deps` of every function: none
// links the local runtime (shared/local: the ASL runner, the local
// server), and a function links the clients of customers' AWS, load
// balancers and Step Functions only when it uses them, since binary size
// and cold starts follow what is linked (the EventBridge client only
// where the accounts routes are served).
func TestFunctionDependencies(t *testing.T) {
	root, err := storetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./functions/...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/batchplane/batchplane/"
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[strings.TrimPrefix(f[0], mod+"functions/")] = f[1:]
	}
	reachesCustomers := []string{routes.FnApps, routes.FnRuns, routes.DefaultFunction}
	want := append(routes.Functions(), routes.DefaultFunction)
	for _, w := range routes.Workers {
		want = append(want, w.Function)
	}
	for _, fn := range want {
		d, ok := deps[fn]
		if !ok {
			t.Errorf("no functions/%s", fn)
			continue
		}
		links := func(pkg string) bool {
			return slices.ContainsFunc(d, func(p string) bool { return p == pkg || strings.HasPrefix(p, pkg+"/") })
		}
		if links(mod + "shared/local") {
			t.Errorf("%s links shared/local", fn)
		}
		worker := slices.ContainsFunc(routes.Workers, func(w routes.Worker) bool { return w.Function == fn })
		customers := worker || slices.Contains(reachesCustomers, fn)
		if got := links(mod + "shared/cloud/aws"); got != customers {
			t.Errorf("%s links shared/cloud/aws: %v, want %v", fn, got, customers)
		}
		if got := links(mod + "shared/cloud/aws/elb"); got != worker {
			t.Errorf("%s links shared/cloud/aws/elb: %v, want %v", fn, got, worker)
		}
		sfn := slices.Contains(reachesCustomers, fn) || fn == "task-awaitstop"
		if got := links("github.com/aws/aws-sdk-go-v2/service/sfn"); got != sfn {
			t.Errorf("%s links the Step Functions client: %v, want %v", fn, got, sfn)
		}
		// Only the functions serving the accounts routes keep the event bus's policy.
		bus := fn == routes.FnAccounts || fn == routes.DefaultFunction
		if got := links("github.com/aws/aws-sdk-go-v2/service/eventbridge"); got != bus {
			t.Errorf("%s links the EventBridge client: %v, want %v", fn, got, bus)
		}
	}
}
