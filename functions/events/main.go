// Command events handles EC2 Instance State-change Notifications and Spot
// Instance Interruption Warnings from EventBridge: it keeps runs at their
// desired state.
package main

import "github.com/batchplane/batchplane/shared/app/workerapp"

func main() { workerapp.StartEvents() }
