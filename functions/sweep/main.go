// Command sweep is the slow safety sweep (an EventBridge schedule): it
// reconciles every active run, repairing runs whose events were lost.
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/elb"
	"github.com/batchplane/batchplane/shared/prices"
)

func main() {
	app.Sweep(app.WithCustomerAWS(cloudaws.New), app.WithLoadBalancing(elb.New), app.WithCatalog(prices.Catalog{}))
}
