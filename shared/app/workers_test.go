package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
	localcloud "github.com/batchplane/batchplane/shared/cloud/local"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store/storetest"
	"github.com/batchplane/batchplane/shared/workflow"
)

// TestWorkerHandlersThroughLambda feeds the EventBridge payloads in events/
// through lambda.NewHandler into the events and sweep handlers, and a
// state machine payload into every task handler.
func TestWorkerHandlersThroughLambda(t *testing.T) {
	root, _ := storetest.RepoRoot()
	db := storetest.Client(t)
	sealer, _ := secrets.NewAESGCM(bytes.Repeat([]byte{2}, 32))
	lc, err := localcloud.New(localcloud.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	svc, err := app.Build(context.Background(), app.Config{DB: db, Table: storetest.NewTable(t, db), Region: app.LocalRegion,
		Sealer: sealer, Cloud: lc.Cloud(), Catalog: prices.Catalog{}, Routes: api.All()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"ec2-state-change-running.json", "ec2-state-change-terminated.json", "ec2-spot-interruption.json"} {
		raw, err := os.ReadFile(filepath.Join(root, "events", name))
		if err != nil {
			t.Fatal(err)
		}
		// An instance batchplane did not launch is none of its business.
		if _, err := lambda.NewHandler(svc.Workflow.EventsHandler()).Invoke(ctx, raw); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := lambda.NewHandler(svc.Workflow.EventsHandler()).Invoke(ctx, []byte(`{"detail-type": 5}`)); err == nil {
		t.Error("a malformed event was accepted")
	}
	sweep, _ := os.ReadFile(filepath.Join(root, "events", "scheduler-sweep.json"))
	if _, err := lambda.NewHandler(svc.Workflow.SweepHandler()).Invoke(ctx, sweep); err != nil {
		t.Errorf("sweep: %v", err)
	}
	for _, w := range routes.Workers {
		if w.Task == "" {
			continue
		}
		i := slices.IndexFunc(workflow.Tasks, func(t workflow.Task) bool { return t.Name == w.Task })
		if i < 0 {
			t.Fatalf("no workflow.Task for %s", w.Task)
		}
		h := workflow.Tasks[i].Handler(svc.Workflow)
		_, err = lambda.NewHandler(h).Invoke(ctx, []byte(`{"RunId": "R-00000000", "RunRequestId": "x", "TaskToken": "t"}`))
		if err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("%s on a missing run: %v", w.Task, err)
		}
	}
}
