// Package workerapp starts the run workflow's functions: the state machine
// tasks, the EC2 events handler and the safety sweep. They are the only
// ones that register instances with customers' load balancers, so they are
// the only binaries that link those clients (package cloud/aws/elb); the
// HTTP functions start from package cloudapp.
package workerapp

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/app/cloudapp"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/elb"
)

// FromEnv builds the service for a workflow function: cloudapp's, plus
// load balancer registration.
func FromEnv(ctx context.Context) (*app.Service, error) {
	return cloudapp.FromEnvWith(ctx, "", func(p *cloudaws.Provider, c *app.Config) {
		c.Cloud.LoadBalancing = elb.New(p)
	})
}

// start builds the service once and serves handler(svc).
func start(handler func(*app.Service) (any, error)) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	svc, err := FromEnv(context.Background())
	if err == nil {
		var h any
		if h, err = handler(svc); err == nil {
			lambda.Start(h)
			return
		}
	}
	slog.Error("start-up failed", "err", err)
	os.Exit(1)
}

// StartTask is the whole main of a state machine task function: it decodes
// the Lambda payload, runs the task and returns its output; a task's error
// type name becomes the errorType the state machine's Retry and Catch match
// (TransientError is retried).
func StartTask(task string) {
	start(func(svc *app.Service) (any, error) { return cloudapp.TaskHandler(svc, task) })
}

// StartEvents is the main of the EC2 events function (EventBridge: EC2
// Instance State-change Notification, EC2 Spot Instance Interruption Warning).
func StartEvents() {
	start(func(svc *app.Service) (any, error) { return cloudapp.EventsHandler(svc), nil })
}

// StartSweep is the main of the safety sweep function (EventBridge schedule).
func StartSweep() {
	start(func(svc *app.Service) (any, error) { return cloudapp.SweepHandler(svc), nil })
}
