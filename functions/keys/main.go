// Command keys is the Lambda function serving batchplane's keys routes (the
// routes whose Function is routes.FnKeys in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnKeys) }
