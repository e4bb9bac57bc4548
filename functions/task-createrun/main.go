// Command task-createrun is the run state machine's CreateRun task
// (infra/statemachines/run.asl.json, ${CreateRunFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/cloudapp"

func main() { cloudapp.StartTask("createrun") }
