// Command task-provision is the run state machine's Provision task
// (infra/statemachines/run.asl.json, ${ProvisionFunctionArn}).
package main

import "github.com/batchplane/batchplane/shared/app/cloudapp"

func main() { cloudapp.StartTask("provision") }
