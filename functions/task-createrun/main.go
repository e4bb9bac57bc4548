// Command task-createrun is the run state machine's CreateRun task
// (infra/statemachines/run.asl.json, ${CreateRunFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/workerapp"

func main() { workerapp.StartTask("createrun") }
