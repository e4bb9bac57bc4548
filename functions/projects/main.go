// Command projects is the Lambda function serving batchplane's projects routes (the
// routes whose Function is routes.FnProjects in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
)

func main() { app.HTTP(api.Projects()) }
