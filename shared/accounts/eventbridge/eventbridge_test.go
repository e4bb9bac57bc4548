package eventbridge

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/batchplane/batchplane/shared/errs"
)

// capture records every request at the SDK's middleware stack and answers
// it without a network.
type capture struct {
	mu      sync.Mutex
	ops     []string
	inputs  []any
	respond func(op string) (any, error)
}

func (c *capture) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("capture",
		func(ctx context.Context, in middleware.InitializeInput, _ middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.ops, c.inputs = append(c.ops, op), append(c.inputs, in.Parameters)
			c.mu.Unlock()
			res, err := c.respond(op)
			return middleware.InitializeOutput{Result: res}, middleware.Metadata{}, err
		}), middleware.Before)
}

func bus(c *capture) *Bus {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", ""),
		APIOptions: []func(*middleware.Stack) error{c.option}}
	return New(cfg, "Batchplane-test-customer-events")
}

func TestAllow(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode errs.Code // "" for success
	}{
		{"admitted", nil, ""},
		{"policy full: a conflict naming the limit", &types.PolicyLengthExceededException{Message: aws.String("too long")}, errs.Conflict},
		{"other failure: wrapped", &types.InternalException{Message: aws.String("boom")}, errs.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &capture{respond: func(string) (any, error) { return &eventbridge.PutPermissionOutput{}, tt.err }}
			err := bus(c).Allow(context.Background(), "123456789012")
			if got := errs.CodeOf(err); got != tt.wantCode {
				t.Fatalf("Allow: %v (code %q), want code %q", err, got, tt.wantCode)
			}
			if len(c.ops) != 1 || c.ops[0] != "PutPermission" {
				t.Fatalf("ops %v, want one PutPermission", c.ops)
			}
			in := c.inputs[0].(*eventbridge.PutPermissionInput)
			if aws.ToString(in.EventBusName) != "Batchplane-test-customer-events" || aws.ToString(in.Action) != "events:PutEvents" ||
				aws.ToString(in.Principal) != "123456789012" || aws.ToString(in.StatementId) != "account-123456789012" ||
				in.Policy != nil || in.Condition != nil {
				t.Errorf("PutPermission %+v", in)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"revoked", nil, false},
		{"no such statement: already revoked", &types.ResourceNotFoundException{Message: aws.String("gone")}, false},
		{"throttled: an error", &types.ConcurrentModificationException{Message: aws.String("busy")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &capture{respond: func(string) (any, error) { return &eventbridge.RemovePermissionOutput{}, tt.err }}
			err := bus(c).Revoke(context.Background(), "123456789012")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Revoke: %v, want error %v", err, tt.wantErr)
			}
			var cm *types.ConcurrentModificationException
			if tt.wantErr && !errors.As(err, &cm) {
				t.Errorf("Revoke error %v does not wrap the SDK's", err)
			}
			if len(c.ops) != 1 || c.ops[0] != "RemovePermission" {
				t.Fatalf("ops %v, want one RemovePermission", c.ops)
			}
			in := c.inputs[0].(*eventbridge.RemovePermissionInput)
			if aws.ToString(in.EventBusName) != "Batchplane-test-customer-events" || aws.ToString(in.StatementId) != "account-123456789012" ||
				in.RemoveAllPermissions {
				t.Errorf("RemovePermission %+v", in)
			}
		})
	}
}

func TestRejectsNonAccountIDs(t *testing.T) {
	c := &capture{respond: func(string) (any, error) { return nil, nil }}
	b := bus(c)
	for _, id := range []string{"", "12345678901", "1234567890123", "12345678901a", "*"} {
		if err := b.Allow(context.Background(), id); err == nil {
			t.Errorf("Allow(%q) succeeded", id)
		}
		if err := b.Revoke(context.Background(), id); err == nil {
			t.Errorf("Revoke(%q) succeeded", id)
		}
	}
	if len(c.ops) != 0 {
		t.Errorf("requests sent: %v", c.ops)
	}
}
