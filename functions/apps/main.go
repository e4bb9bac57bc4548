// Command apps is the Lambda function serving batchplane's apps routes (the
// routes whose Function is routes.FnApps in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/autoscaling"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/workflow/stepfunctions"
)

func main() {
	app.HTTP(api.Apps(), app.WithCustomerAWS(cloudaws.New),
		app.WithAutoScaling(autoscaling.New), app.WithStepFunctions(stepfunctions.New),
		app.WithCatalog(prices.Catalog{}))
}
