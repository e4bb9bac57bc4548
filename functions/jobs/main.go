// Command jobs is the Lambda function serving batchplane's jobs routes (the
// routes whose Function is routes.FnJobs in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnJobs) }
