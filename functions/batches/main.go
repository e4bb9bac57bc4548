// Command batches is the Lambda function serving batchplane's batches routes
// (seed 002's /batches and Scale's /v6/batches/: the routes whose Function
// is routes.FnBatches in shared/routes). It reads job logs from AWS Batch's
// CloudWatch streams in customers' accounts and kicks the dispatch
// function for submissions, retries and deletions.
package main

import (
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/batch"
	"github.com/batchplane/batchplane/shared/cloud/aws/dispatch"
	"github.com/batchplane/batchplane/shared/prices"
)

func main() {
	app.HTTP(api.Batches(), app.WithCatalog(prices.Catalog{}), app.WithCustomerAWS(cloudaws.New),
		app.WithAWSBatch(batch.New), app.WithKicker(dispatch.NewKicker))
}
