// Command tools is the Lambda function serving batchplane's tools routes (the
// routes whose Function is routes.FnTools in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnTools) }
