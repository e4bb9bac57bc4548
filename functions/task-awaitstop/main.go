// Command task-awaitstop is the run state machine's AwaitStop task
// (infra/statemachines/run.asl.json, ${AwaitStopFunctionArn}).
// It resumes its execution with Step Functions (SendTaskSuccess) when the
// run was stopped before the wait began.
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/workflow"
	"github.com/batchplane/batchplane/shared/workflow/stepfunctions"
)

func main() {
	app.Task(workflow.AwaitStop, app.WithStepFunctions(stepfunctions.New), app.WithCatalog(prices.Catalog{}))
}
