// Command events handles EC2 Instance State-change Notifications and Spot
// Instance Interruption Warnings from EventBridge: it keeps runs at their
// desired state.
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/autoscaling"
	"github.com/batchplane/batchplane/shared/cloud/aws/cloudwatch"
	"github.com/batchplane/batchplane/shared/cloud/aws/ec2"
	"github.com/batchplane/batchplane/shared/cloud/aws/elb"
	"github.com/batchplane/batchplane/shared/prices"
)

func main() {
	app.Events(app.WithCustomerAWS(cloudaws.New),
		app.WithCompute(ec2.New), app.WithAutoScaling(autoscaling.New), app.WithMetrics(cloudwatch.New), app.WithLoadBalancing(elb.New), app.WithCatalog(prices.Catalog{}))
}
