// Command task-finalize is the run state machine's Finalize task
// (infra/statemachines/run.asl.json, ${FinalizeFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/workerapp"

func main() { workerapp.StartTask("finalize") }
