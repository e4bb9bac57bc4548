// Package dispatch is the AWS side of dispatching a batch's jobs outside
// the request that submitted it: the Kicker (an asynchronous invocation of
// the dispatch function) and that function's handler, which calls the
// batches service's Dispatch until the batch needs nothing more or the
// invocation's deadline nears, then invokes itself again. It links the
// Lambda client only, never the Batch client of customers' accounts.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Request is the dispatch function's payload.
type Request struct {
	BatchID string `json:"batch_id"`
}

// Kicker implements batches.Kicker with Lambda's asynchronous invocation
// (InvocationType Event) of the dispatch function: Lambda queues the event,
// retries a failed invocation twice and then keeps it in the function's
// dead-letter queue; the safety sweep kicks any batch still waiting.
type Kicker struct {
	client   *lambda.Client
	function string
}

// NewKicker returns a Kicker invoking function (a name or ARN) with the
// function's own AWS configuration (batchplane's account, not a customer's).
func NewKicker(cfg aws.Config, function string) *Kicker {
	return &Kicker{client: lambda.NewFromConfig(cfg), function: function}
}

// Kick implements batches.Kicker.
func (k *Kicker) Kick(ctx context.Context, batchID string) error {
	if k.function == "" {
		return errors.New("kick: no dispatch function configured")
	}
	payload, _ := json.Marshal(Request{BatchID: batchID})
	out, err := k.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(k.function),
		InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil {
		return fmt.Errorf("kick batch %s: %w", batchID, err)
	}
	if out.StatusCode != 202 {
		return fmt.Errorf("kick batch %s: Lambda answered %d, want 202", batchID, out.StatusCode)
	}
	return nil
}

// Dispatcher moves a batch on by one bounded step (batches.Service.Dispatch).
type Dispatcher interface {
	Dispatch(ctx context.Context, batchID string) (more bool, err error)
}

// Kicker asks for a batch's dispatch later (batches.Kicker).
type kicker interface {
	Kick(ctx context.Context, batchID string) error
}

// Worker is the dispatch function.
type Worker struct {
	Dispatcher Dispatcher
	// Self invokes this function again (a Kicker on its own name).
	Self kicker
	// Margin is the time kept before the invocation's deadline: a
	// Dispatch step (one chunk of submissions, with throttling backoff)
	// must fit in it.
	Margin time.Duration
	// Pause separates steps that return more quickly (another dispatcher
	// holds the batch, or a chunk was all cached), so the loop does not spin.
	Pause time.Duration
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Defaults of the worker in AWS (its function's timeout is
// routes.DispatchTimeoutSeconds).
const (
	DefaultMargin = 60 * time.Second
	DefaultPause  = time.Second
)

// NewWorker returns the worker with the defaults and the real clock.
func NewWorker(d Dispatcher, self kicker) *Worker {
	return &Worker{Dispatcher: d, Self: self, Margin: DefaultMargin, Pause: DefaultPause, Now: time.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}}
}

// Handle dispatches one batch until Dispatch says nothing more is to be
// done, or until the deadline is within Margin: then it invokes the
// function again for the rest (a new invocation, a new deadline) and
// returns. An error is returned for Lambda to retry the invocation.
func (w *Worker) Handle(ctx context.Context, in Request) error {
	if in.BatchID == "" {
		return errors.New("dispatch: no batch_id")
	}
	deadline, hasDeadline := ctx.Deadline()
	for {
		start := w.Now()
		more, err := w.Dispatcher.Dispatch(ctx, in.BatchID)
		if err != nil {
			return fmt.Errorf("dispatch %s: %w", in.BatchID, err)
		}
		if !more {
			return nil
		}
		now := w.Now()
		if hasDeadline && deadline.Sub(now) < w.Margin {
			return w.Self.Kick(context.WithoutCancel(ctx), in.BatchID)
		}
		if now.Sub(start) < w.Pause {
			if err := w.Sleep(ctx, w.Pause); err != nil {
				return w.Self.Kick(context.WithoutCancel(ctx), in.BatchID)
			}
		}
	}
}
