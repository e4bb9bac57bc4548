package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/batchplane/batchplane/shared/batches"
	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/routes"
)

// WithAWSBatch runs tool batches in customers' accounts through what
// newBatch builds (batch.New) on WithCustomerAWS's provider, which must
// come first.
func WithAWSBatch[C any, O any, B cloud.Batch](newBatch func(C, ...O) B) Option {
	return func(_ aws.Config, e *building) error {
		p, ok := e.customer.(C)
		if !ok {
			return fmt.Errorf("app: WithAWSBatch needs WithCustomerAWS before it")
		}
		e.config.Batch = newBatch(p)
		return nil
	}
}

// WithKicker kicks batches' dispatch through what newKicker builds
// (dispatch.NewKicker) on the dispatch function named by
// routes.EnvBatchDispatch.
func WithKicker[K batches.Kicker](newKicker func(aws.Config, string) K) Option {
	return func(cfg aws.Config, e *building) error {
		name := os.Getenv(routes.EnvBatchDispatch)
		if name == "" {
			return fmt.Errorf("app: %s must be set", routes.EnvBatchDispatch)
		}
		e.config.Kicker = newKicker(cfg, name)
		return nil
	}
}

// EnvFunctionName is where the Lambda runtime names the running function.
const EnvFunctionName = "AWS_LAMBDA_FUNCTION_NAME"

// WithSelfKicker is WithKicker for the dispatch function itself: it
// invokes its own name, which it reads from the runtime (a function's own
// ARN in its environment would make it depend on itself).
func WithSelfKicker[K batches.Kicker](newKicker func(aws.Config, string) K) Option {
	return func(cfg aws.Config, e *building) error {
		e.config.Kicker = newKicker(cfg, os.Getenv(EnvFunctionName))
		return nil
	}
}

// BatchDispatch is the main of the batch dispatch function: handler
// (dispatch.NewWorker(svc.Batches, svc.Kicker).Handle, named by the main
// so that only it links the worker) serves each invocation.
func BatchDispatch(handler func(svc *Service, self batches.Kicker) any, opts ...Option) {
	var self batches.Kicker
	opts = append(opts, func(_ aws.Config, e *building) error {
		self = e.config.Kicker
		return nil
	})
	start(opts, BuildCore, func(svc *Service) any { return handler(svc, self) })
}

// EventsRouter puts a handler of AWS Batch's events in front of the EC2
// events handler (batchevents.Handler): obs gets Batch events, next the rest.
type EventsRouter func(obs interface {
	Observe(ctx context.Context, s cloud.BatchJobState) error
}, next func(context.Context, json.RawMessage) error) func(context.Context, json.RawMessage) error

// WithBatchEvents has the events function hand AWS Batch's job state
// events to the batches service through route (batchevents.Handler), named
// by the events function's main so that no other function links it.
func WithBatchEvents(route EventsRouter) Option {
	return func(_ aws.Config, e *building) error {
		e.batchEvents = route
		return nil
	}
}

// sweepBatches bounds the batches one sweep looks at.
const sweepBatches = 1000

// sweepHandler is the safety sweep function's handler: the run workflow's
// sweep, then the tool batches': job states refreshed from the executor
// (lost events) and batches left waiting kicked (lost kicks). Each runs
// whatever the others' errors; all errors are returned.
func sweepHandler(svc *Service) any {
	runs := svc.Workflow.SweepHandler()
	return func(ctx context.Context, raw json.RawMessage) error {
		errRuns := runs(ctx, raw)
		if svc.Batches == nil || svc.Batches.Cloud == nil {
			return errRuns
		}
		_, errRefresh := svc.Batches.Refresh(ctx, sweepBatches)
		_, errKick := svc.Batches.Sweep(ctx, sweepBatches)
		return errors.Join(errRuns, errRefresh, errKick)
	}
}

// eventsHandler is the events function's handler: the run workflow's EC2
// handler, behind the Batch events router when WithBatchEvents named one.
func eventsHandler(route EventsRouter) func(svc *Service) any {
	return func(svc *Service) any {
		ec2 := svc.Workflow.EventsHandler()
		if route == nil || svc.Batches == nil {
			return ec2
		}
		return route(svc.Batches, ec2)
	}
}
