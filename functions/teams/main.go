// Command teams is the Lambda function serving batchplane's teams routes (the
// routes whose Function is routes.FnTeams in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnTeams) }
