// Command runs is the Lambda function serving batchplane's runs routes (the
// routes whose Function is routes.FnRuns in shared/routes).
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/cloudwatch"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/workflow/stepfunctions"
)

func main() {
	app.HTTP(api.Runs(), app.WithCustomerAWS(cloudaws.New),
		app.WithMetrics(cloudwatch.New), app.WithStepFunctions(stepfunctions.New),
		app.WithCatalog(prices.Catalog{}))
}
