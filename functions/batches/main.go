// Command batches is the Lambda function serving batchplane's batches routes
// (seed 002's /batches and Scale's /v6/batches/: the routes whose Function
// is routes.FnBatches in shared/routes). The AWS Batch executor and the
// dispatch kicker are wired in by the batches-aws work (issue 8); until
// then job logs answer 503 and deletions finish in the dispatch worker.
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/routes"
)

func main() { app.HTTP(routes.FnBatches, app.WithCatalog(prices.Catalog{})) }
