// Command apps is the Lambda function serving batchplane's apps routes (the
// routes whose Function is routes.FnApps in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/app/cloudapp"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { cloudapp.StartLambda(routes.FnApps) }
