// Command task-provision is the run state machine's Provision task
// (infra/statemachines/run.asl.json, ${ProvisionFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/workerapp"

func main() { workerapp.StartTask("provision") }
