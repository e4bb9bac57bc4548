// Command sweep is the slow safety sweep (an EventBridge schedule): it
// reconciles every active run, repairing runs whose events were lost.
package main

import "github.com/batchplane/batchplane/shared/app/workerapp"

func main() { workerapp.StartSweep() }
