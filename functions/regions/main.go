// Command regions is the Lambda function serving batchplane's regions routes (the
// routes whose Function is routes.FnRegions in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnRegions) }
