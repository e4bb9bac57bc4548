package app_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/batchplane/batchplane/shared/accounts/eventbridge"
	"github.com/batchplane/batchplane/shared/app"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/elb"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/workflow/stepfunctions"
)

// TestOptions builds a Lambda's service from the environment with each
// set of options the mains use (nothing is called: AWS is never reached)
// and checks what each option wired; the workflow's functions build no API.
func TestOptions(t *testing.T) {
	for k, v := range map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SK",
		routes.EnvTable: "t", routes.EnvEventBus: "Batchplane-test-customer-events", routes.EnvStateMachine: "arn:aws:states:eu-west-1:000000000000:stateMachine:runs",
		app.EnvSealerKeyFile: filepath.Join(t.TempDir(), "key")} {
		t.Setenv(k, v)
	}
	tests := []struct {
		name                                 string
		opts                                 []app.Option
		wantErr, wantCloud, wantLB, wantExec bool
		wantCatalog, wantBus                 bool
		noBus                                bool // routes.EnvEventBus unset
		worker                               bool // built as app.Task/Events/Sweep build it
	}{
		{name: "plain HTTP function"},
		{name: "apps, runs, api", opts: []app.Option{app.WithCustomerAWS(cloudaws.New), app.WithStepFunctions(stepfunctions.New),
			app.WithCatalog(prices.Catalog{})}, wantCloud: true, wantExec: true, wantCatalog: true},
		{name: "task-awaitstop", opts: []app.Option{app.WithCustomerAWS(cloudaws.New), app.WithLoadBalancing(elb.New),
			app.WithStepFunctions(stepfunctions.New), app.WithCatalog(prices.Catalog{})}, wantCloud: true, wantLB: true, wantExec: true, wantCatalog: true},
		{name: "load balancing needs customers' AWS first", opts: []app.Option{app.WithLoadBalancing(elb.New), app.WithCustomerAWS(cloudaws.New)},
			wantErr: true},
		{name: "accounts", opts: []app.Option{app.WithEventBus(eventbridge.New)}, wantBus: true},
		{name: "accounts without an event bus named", opts: []app.Option{app.WithEventBus(eventbridge.New)}, noBus: true, wantErr: true},
		{name: "task-provision, events, sweep", opts: []app.Option{app.WithCustomerAWS(cloudaws.New), app.WithLoadBalancing(elb.New),
			app.WithCatalog(prices.Catalog{})}, wantCloud: true, wantLB: true, wantCatalog: true, worker: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.noBus {
				t.Setenv(routes.EnvEventBus, "")
			}
			c, err := app.ConfigFromEnv(ctx, "", tt.opts...)
			var svc *app.Service
			if err == nil && tt.worker {
				svc, err = app.BuildCore(ctx, c)
			} else if err == nil {
				svc, err = app.Build(ctx, c)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := svc.API != nil; got == tt.worker {
				t.Errorf("API built: %v for a worker: %v", got, tt.worker)
			}
			wf := svc.Workflow
			if got := wf.Cloud.Compute != nil && wf.Cloud.AutoScaling != nil && wf.Cloud.Metrics != nil && wf.Cloud.Roles != nil; got != tt.wantCloud {
				t.Errorf("customers' AWS wired: %v, want %v", got, tt.wantCloud)
			}
			if got := wf.Cloud.LoadBalancing != nil; got != tt.wantLB {
				t.Errorf("load balancing wired: %v, want %v", got, tt.wantLB)
			}
			if got := wf.Executions != nil && svc.Runs.Executions != nil; got != tt.wantExec {
				t.Errorf("executions wired: %v, want %v", got, tt.wantExec)
			}
			if got := wf.Catalog != nil && svc.Runs.Catalog != nil; got != tt.wantCatalog {
				t.Errorf("catalog wired: %v, want %v", got, tt.wantCatalog)
			}
			if got := svc.Accounts.Events != nil; got != tt.wantBus {
				t.Errorf("event bus wired: %v, want %v", got, tt.wantBus)
			}
		})
	}
}
