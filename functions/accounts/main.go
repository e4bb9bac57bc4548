// Command accounts is the Lambda function serving batchplane's accounts routes (the
// routes whose Function is routes.FnAccounts in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/accounts/eventbridge"
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnAccounts, app.WithEventBus(eventbridge.New)) }
