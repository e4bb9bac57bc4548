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
// balancers, Step Functions, AWS Batch and CloudWatch Logs, and Lambda
// only when it uses them, since binary size and cold starts follow what
// is linked.
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
	reachesCustomers := []string{routes.FnApps, routes.FnRuns, routes.FnBatches, routes.DefaultFunction}
	// batchFunctions use cloud.Batch in AWS: the dispatcher, the sweep
	// (lost events) and the HTTP functions that read job logs.
	batchFunctions := []string{routes.FnBatchDispatch, routes.FnSweep, routes.FnBatches, routes.DefaultFunction}
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
		runWorker := worker && fn != routes.FnBatchDispatch
		if got := links(mod + "shared/cloud/aws/elb"); got != runWorker {
			t.Errorf("%s links shared/cloud/aws/elb: %v, want %v", fn, got, runWorker)
		}
		// AWS Batch and CloudWatch Logs (job logs) in the functions that
		// submit, describe or read jobs; Lambda in those that kick a
		// batch's dispatch (routes.BatchKickers).
		awsBatch := slices.Contains(batchFunctions, fn)
		for _, pkg := range []string{mod + "shared/cloud/aws/batch", "github.com/aws/aws-sdk-go-v2/service/batch", "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"} {
			if got := links(pkg); got != awsBatch {
				t.Errorf("%s links %s: %v, want %v", fn, pkg, got, awsBatch)
			}
		}
		kicks := slices.Contains(routes.BatchKickers, fn)
		if got := links("github.com/aws/aws-sdk-go-v2/service/lambda"); got != kicks {
			t.Errorf("%s links the Lambda client: %v, want %v", fn, got, kicks)
		}
		sfn := (slices.Contains(reachesCustomers, fn) && fn != routes.FnBatches) || fn == "task-awaitstop"
		if got := links("github.com/aws/aws-sdk-go-v2/service/sfn"); got != sfn {
			t.Errorf("%s links the Step Functions client: %v, want %v", fn, got, sfn)
		}
	}
}
