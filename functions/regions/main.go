// Command regions is the Lambda function serving batchplane's regions routes (the
// routes whose Function is routes.FnRegions in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Regions()) }
