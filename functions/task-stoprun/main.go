// Command task-stoprun is the run state machine's StopRun task
// (infra/statemachines/run.asl.json, ${StopRunFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/cloudapp"

func main() { cloudapp.StartTask("stoprun") }
