// Package awstest captures the SDK requests of the cloud/aws packages'
// tests at the middleware stack and answers them with recorded responses,
// without a network.
package awstest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"

	"github.com/batchplane/batchplane/shared/cloud"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
)

// Capture records every request and answers it with Respond.
type Capture struct {
	mu      sync.Mutex
	ops     []string
	inputs  []any
	Respond func(op string, in any) (any, error)
}

// Ops returns the operations called, in order.
func (c *Capture) Ops() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ops...)
}

// Input returns the input of the i-th call.
func (c *Capture) Input(i int) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inputs[i]
}

func (c *Capture) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("capture",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.ops, c.inputs = append(c.ops, op), append(c.inputs, in.Parameters)
			c.mu.Unlock()
			res, err := c.Respond(op, in.Parameters)
			return middleware.InitializeOutput{Result: res}, middleware.Metadata{}, err
		}), middleware.Before)
}

// Provider is a provider whose clients call c, with static credentials
// instead of role assumption.
func Provider(c *Capture) *cloudaws.Provider {
	return cloudaws.New(aws.Config{Region: "us-east-1"}, cloudaws.WithAPIOptions(c.option),
		cloudaws.WithCredentials(func(cloud.Target) aws.CredentialsProvider {
			return credentials.NewStaticCredentialsProvider("AK", "SK", "")
		}))
}

// Target is a customer account's role in eu-west-1.
var Target = cloud.Target{AccountID: "A-1", RoleArn: "arn:aws:iam::123456789012:role/r", ExternalID: "bp-x", Region: "eu-west-1"}
