// Command task-stoprun is the run state machine's StopRun task
// (infra/statemachines/run.asl.json, ${StopRunFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app"

func main() { app.StartTask("stoprun") }
