// Command users is the Lambda function serving batchplane's users routes (the
// routes whose Function is routes.FnUsers in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnUsers) }
