package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/middleware"
)

// capture records the Lambda requests at the SDK's middleware stack and
// answers them with status, without a network.
type capture struct {
	inputs []*awslambda.InvokeInput
	status int32
	err    error
}

func (c *capture) config() aws.Config {
	return aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", ""),
		APIOptions: []func(*middleware.Stack) error{func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("capture",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if op := middleware.GetOperationName(ctx); op != "Invoke" {
						return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("unexpected " + op)
					}
					c.inputs = append(c.inputs, in.Parameters.(*awslambda.InvokeInput))
					return middleware.InitializeOutput{Result: &awslambda.InvokeOutput{StatusCode: c.status}}, middleware.Metadata{}, c.err
				}), middleware.Before)
		}}}
}

func TestKick(t *testing.T) {
	tests := []struct {
		name     string
		function string
		status   int32
		err      error
		wantErr  bool
	}{
		{name: "queued", function: "batchplane-dispatch", status: 202},
		{name: "an unexpected status", function: "f", status: 200, wantErr: true},
		{name: "denied", function: "f", err: errors.New("AccessDeniedException"), wantErr: true},
		{name: "no function configured", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &capture{status: tt.status, err: tt.err}
			err := NewKicker(c.config(), tt.function).Kick(context.Background(), "B-0a1b2c3d")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if tt.function == "" {
				if len(c.inputs) != 0 {
					t.Fatal("invoked without a function")
				}
				return
			}
			in := c.inputs[0]
			var req Request
			if aws.ToString(in.FunctionName) != tt.function || in.InvocationType != types.InvocationTypeEvent ||
				json.Unmarshal(in.Payload, &req) != nil || req.BatchID != "B-0a1b2c3d" {
				t.Fatalf("invoke %s %s %s", aws.ToString(in.FunctionName), in.InvocationType, in.Payload)
			}
		})
	}
}

// steps is a Dispatcher whose calls take `took` on the worker's clock and
// answer more until the n-th.
type steps struct {
	clock *time.Time
	took  time.Duration
	n     int
	err   error
	calls int
}

func (s *steps) Dispatch(_ context.Context, id string) (bool, error) {
	s.calls++
	*s.clock = s.clock.Add(s.took)
	return s.calls < s.n, s.err
}

type kicks struct{ ids []string }

func (k *kicks) Kick(_ context.Context, id string) error {
	k.ids = append(k.ids, id)
	return nil
}

// TestWorker: the worker calls Dispatch until it says no more, or until
// the deadline is within the margin, then invokes itself once for the rest.
func TestWorker(t *testing.T) {
	tests := []struct {
		name       string
		took       time.Duration
		n          int
		err        error
		wantCalls  int
		wantKicks  int
		wantPauses int
		wantErr    bool
	}{
		{name: "done within the invocation", took: 10 * time.Second, n: 5, wantCalls: 5},
		// 300 s of deadline, 60 s of margin, 30 s a step: after 9 steps 30 s remain.
		{name: "deadline nears: invoke again", took: 30 * time.Second, n: 1000, wantCalls: 9, wantKicks: 1},
		{name: "quick steps pause", took: 100 * time.Millisecond, n: 4, wantCalls: 4, wantPauses: 3},
		{name: "an error is Lambda's to retry", took: time.Second, n: 10, err: errors.New("table unavailable"), wantCalls: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := time.Now()
			ctx, cancel := context.WithDeadline(context.Background(), clock.Add(300*time.Second))
			defer cancel()
			d := &steps{clock: &clock, took: tt.took, n: tt.n, err: tt.err}
			k := &kicks{}
			pauses := 0
			w := NewWorker(d, k)
			w.Now = func() time.Time { return clock }
			w.Sleep = func(_ context.Context, p time.Duration) error {
				pauses++
				clock = clock.Add(p)
				return nil
			}
			err := invoke(ctx, w.Handle)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if d.calls != tt.wantCalls || len(k.ids) != tt.wantKicks || pauses != tt.wantPauses {
				t.Fatalf("%d dispatches, kicks %v, %d pauses; want %d, %d, %d", d.calls, k.ids, pauses, tt.wantCalls, tt.wantKicks, tt.wantPauses)
			}
			if tt.wantKicks > 0 && k.ids[0] != "B-1" {
				t.Fatalf("kicked %v", k.ids)
			}
		})
	}
	if err := NewWorker(&steps{}, &kicks{}).Handle(context.Background(), Request{}); err == nil {
		t.Error("a payload without batch_id was accepted")
	}
}

// invoke runs h on a payload through the Lambda runtime's handler adapter.
func invoke(ctx context.Context, h func(context.Context, Request) error) error {
	_, err := lambda.NewHandler(h).Invoke(ctx, []byte(`{"batch_id": "B-1"}`))
	return err
}
