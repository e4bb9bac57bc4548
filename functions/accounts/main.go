// Command accounts is the Lambda function serving batchplane's accounts routes (the
// routes whose Function is routes.FnAccounts in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/accounts/eventbridge"
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Accounts(), app.WithEventBus(eventbridge.New)) }
