// Command projects is the Lambda function serving batchplane's projects routes (the
// routes whose Function is routes.FnProjects in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnProjects) }
