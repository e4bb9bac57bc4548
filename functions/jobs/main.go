// Command jobs is the Lambda function serving batchplane's jobs routes (the
// routes whose Function is routes.FnJobs in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Jobs()) }
