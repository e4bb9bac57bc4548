// Package stepfunctions implements runs.Executions with AWS Step Functions:
// executions are named after the RunRequestId, so starting one twice is a
// no-op, and the stop callback is SendTaskSuccess.
package stepfunctions

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/batchplane/batchplane/shared/runs"
)

var _ runs.Executions = (*Executions)(nil)

// API is the part of the Step Functions client used.
type API interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Executions starts runs of one state machine.
type Executions struct {
	Client          API
	StateMachineArn string
}

// New returns the executions of the state machine stateMachineARN with a
// client built from cfg ("" where only Resume is called: the wait task's
// token names its execution).
func New(cfg aws.Config, stateMachineARN string) *Executions {
	return &Executions{Client: sfn.NewFromConfig(cfg), StateMachineArn: stateMachineARN}
}

// Start implements runs.Executions.
func (e *Executions) Start(ctx context.Context, name string, input []byte) error {
	in := string(input)
	_, err := e.Client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &e.StateMachineArn, Name: &name, Input: &in})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start execution %s: %w", name, err)
	}
	return nil
}

// Resume implements runs.Executions.
func (e *Executions) Resume(ctx context.Context, token string, output []byte) error {
	out := string(output)
	_, err := e.Client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: &out})
	var gone *types.TaskTimedOut
	var invalid *types.InvalidToken
	if errors.As(err, &gone) || errors.As(err, &invalid) {
		return nil // the wait already ended
	}
	if err != nil {
		return fmt.Errorf("send task success: %w", err)
	}
	return nil
}
