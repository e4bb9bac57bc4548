// Package cloudapp starts the HTTP functions that reach customers' AWS
// accounts and the run state machine (apps, runs, $default) and holds the
// handlers of the workflow functions that package workerapp starts. It is
// apart from package app so the other functions' binaries do not link the
// EC2, Auto Scaling, CloudWatch and Step Functions clients.
package cloudapp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/batchplane/batchplane/shared/app"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/runs"
	"github.com/batchplane/batchplane/shared/workflow"
	"github.com/batchplane/batchplane/shared/workflow/stepfunctions"
)

// FromEnv builds the service for a Lambda with customers' AWS
// (cloud/aws), the price catalog and Step Functions executions.
func FromEnv(ctx context.Context, function string) (*app.Service, error) {
	return FromEnvWith(ctx, function, nil)
}

// FromEnvWith is FromEnv with more of the cloud (package workerapp adds
// load balancer registration for the run workflow's functions).
func FromEnvWith(ctx context.Context, function string, more func(p *cloudaws.Provider, c *app.Config)) (*app.Service, error) {
	cfg, err := app.LoadAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return app.FromEnvWith(ctx, function, func(c *app.Config) {
		p := cloudaws.New(cfg)
		c.Cloud = p.Cloud()
		if more != nil {
			defer more(p, c)
		}
		c.Catalog = prices.Catalog{}
		// Resume (SendTaskSuccess) needs no ARN: the wait task has none.
		c.Executions = &stepfunctions.Executions{Client: sfn.NewFromConfig(cfg), StateMachineArn: os.Getenv(routes.EnvStateMachine)}
	})
}

// StartLambda is the main of an HTTP function that reaches customers'
// accounts or runs (apps, runs, $default).
func StartLambda(function string) {
	app.StartLambdaWith(function, FromEnv)
}

// TaskHandler is a state machine task's Lambda handler.
func TaskHandler(svc *app.Service, task string) (func(context.Context, runs.Input) (runs.Input, error), error) {
	f, ok := svc.Workflow.Tasks()[strings.ToLower(task)]
	if !ok {
		return nil, fmt.Errorf("unknown task %q", task)
	}
	return func(ctx context.Context, in runs.Input) (runs.Input, error) { return f(ctx, in) }, nil
}

// EventsHandler is the EC2 events function's Lambda handler.
func EventsHandler(svc *app.Service) func(context.Context, json.RawMessage) error {
	return func(ctx context.Context, raw json.RawMessage) error {
		ev, ok, err := workflow.ParseEvent(raw)
		if err != nil || !ok {
			return err
		}
		if err := svc.Workflow.HandleEvent(ctx, ev); err != nil {
			return fmt.Errorf("event %s: %w", ev.ID, err)
		}
		return nil
	}
}

// SweepHandler is the safety sweep function's Lambda handler.
func SweepHandler(svc *app.Service) func(context.Context, events.CloudWatchEvent) error {
	return func(ctx context.Context, _ events.CloudWatchEvent) error { return svc.Workflow.Sweep(ctx) }
}
