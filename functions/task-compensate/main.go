// Command task-compensate is the run state machine's Compensate task
// (infra/statemachines/run.asl.json, ${CompensateFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/workerapp"

func main() { workerapp.StartTask("compensate") }
