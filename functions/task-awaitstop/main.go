// Command task-awaitstop is the run state machine's AwaitStop task
// (infra/statemachines/run.asl.json, ${AwaitStopFunctionArn}).
// It resumes its execution with Step Functions (SendTaskSuccess) when the
// run was stopped before the wait began.
package main

import (
	"github.com/batchplane/batchplane/shared/app"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/autoscaling"
	"github.com/batchplane/batchplane/shared/cloud/aws/cloudwatch"
	"github.com/batchplane/batchplane/shared/cloud/aws/ec2"
	"github.com/batchplane/batchplane/shared/cloud/aws/elb"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/workflow"
	"github.com/batchplane/batchplane/shared/workflow/stepfunctions"
)

func main() {
	app.Task(workflow.AwaitStop, app.WithCustomerAWS(cloudaws.New),
		app.WithCompute(ec2.New), app.WithAutoScaling(autoscaling.New), app.WithMetrics(cloudwatch.New), app.WithLoadBalancing(elb.New),
		app.WithStepFunctions(stepfunctions.New), app.WithCatalog(prices.Catalog{}))
}
