// Command task-awaitstop is the run state machine's AwaitStop task
// (infra/statemachines/run.asl.json, ${AwaitStopFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/workerapp"

func main() { workerapp.StartTask("awaitstop") }
