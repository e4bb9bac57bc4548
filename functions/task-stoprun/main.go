// Command task-stoprun is the run state machine's StopRun task
// (infra/statemachines/run.asl.json, ${StopRunFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/workerapp"

func main() { workerapp.StartTask("stoprun") }
