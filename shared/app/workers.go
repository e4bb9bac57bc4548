package app

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

	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/runs"
	"github.com/batchplane/batchplane/shared/workflow"
	"github.com/batchplane/batchplane/shared/workflow/stepfunctions"
)

// fromEnvWithCloud builds the service for a Lambda with customers' AWS
// (cloud/aws), the price catalog and Step Functions executions.
func fromEnvWithCloud(ctx context.Context, function string) (*Service, error) {
	cfg, err := LoadAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return fromEnv(ctx, function, func(c *Config) {
		c.Cloud = cloudaws.New(cfg).Cloud()
		c.Catalog = prices.Catalog{}
		// Resume (SendTaskSuccess) needs no ARN: the wait task has none.
		c.Executions = &stepfunctions.Executions{Client: sfn.NewFromConfig(cfg), StateMachineArn: os.Getenv(routes.EnvStateMachine)}
	})
}

// StartTask is the whole main of a state machine task function: it decodes
// the Lambda payload, runs the task and returns its output; a task's error
// type name becomes the errorType the state machine's Retry and Catch match
// (TransientError is retried).
func StartTask(task string) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	svc, err := fromEnvWithCloud(context.Background(), routes.FnMeta)
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
func TaskHandler(svc *Service, task string) (func(context.Context, runs.Input) (runs.Input, error), error) {
	f, ok := svc.Workflow.Tasks()[strings.ToLower(task)]
	if !ok {
		return nil, fmt.Errorf("unknown task %q", task)
	}
	return func(ctx context.Context, in runs.Input) (runs.Input, error) { return f(ctx, in) }, nil
}

// EventsHandler is the EC2 events function's Lambda handler.
func EventsHandler(svc *Service) func(context.Context, json.RawMessage) error {
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
func SweepHandler(svc *Service) func(context.Context, events.CloudWatchEvent) error {
	return func(ctx context.Context, _ events.CloudWatchEvent) error { return svc.Workflow.Sweep(ctx) }
}

// StartEvents is the main of the EC2 events function (EventBridge: EC2
// Instance State-change Notification, EC2 Spot Instance Interruption Warning).
func StartEvents() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	svc, err := fromEnvWithCloud(context.Background(), routes.FnMeta)
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(EventsHandler(svc))
}

// StartSweep is the main of the safety sweep function (EventBridge schedule).
func StartSweep() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	svc, err := fromEnvWithCloud(context.Background(), routes.FnMeta)
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(SweepHandler(svc))
}
