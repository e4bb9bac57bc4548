// Command teams is the Lambda function serving batchplane's teams routes (the
// routes whose Function is routes.FnTeams in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Teams()) }
