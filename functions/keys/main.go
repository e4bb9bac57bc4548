// Command keys is the Lambda function serving batchplane's keys routes (the
// routes whose Function is routes.FnKeys in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Keys()) }
