// Command task-createrun is the run state machine's CreateRun task
// (infra/statemachines/run.asl.json, ${CreateRunFunctionArn}).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/workflow"
)

func main() {
	app.Task(workflow.CreateRun, app.WithCatalog(prices.Catalog{}))
}
