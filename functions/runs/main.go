// Command runs is the Lambda function serving batchplane's runs routes (the
// routes whose Function is routes.FnRuns in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app/cloudapp"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { cloudapp.StartLambda(routes.FnRuns) }
