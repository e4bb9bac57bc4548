// Command task-awaitstop is the run state machine's AwaitStop task
// (infra/statemachines/run.asl.json, ${AwaitStopFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app"

func main() { app.StartTask("awaitstop") }
