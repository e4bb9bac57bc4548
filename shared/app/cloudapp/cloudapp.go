// Package cloudapp starts the functions that reach customers' AWS accounts
// and the run state machine: the apps, runs and $default HTTP functions,
// the state machine tasks, the EC2 events handler and the safety sweep.
// It is apart from package app so the other functions' binaries do not
// link the EC2, Auto Scaling, CloudWatch and Step Functions clients.
package cloudapp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
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
	cfg, err := app.LoadAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return app.FromEnvWith(ctx, function, func(c *app.Config) {
		c.Cloud = cloudaws.New(cfg).Cloud()
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

// StartTask is the whole main of a state machine task function: it decodes
// the Lambda payload, runs the task and returns its output; a task's error
// type name becomes the errorType the state machine's Retry and Catch match
// (TransientError is retried).
func StartTask(task string) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	svc, err := FromEnv(context.Background(), "")
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	h, err := TaskHandler(svc, task)
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
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

// StartEvents is the main of the EC2 events function (EventBridge: EC2
// Instance State-change Notification, EC2 Spot Instance Interruption Warning).
func StartEvents() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	svc, err := FromEnv(context.Background(), "")
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(EventsHandler(svc))
}

// StartSweep is the main of the safety sweep function (EventBridge schedule).
func StartSweep() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	svc, err := FromEnv(context.Background(), "")
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(SweepHandler(svc))
}
