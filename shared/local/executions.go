package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/batchplane/batchplane/shared/execution"
	"github.com/batchplane/batchplane/shared/local/asl"
	"github.com/batchplane/batchplane/shared/runs"
	"github.com/batchplane/batchplane/shared/store"
	"github.com/batchplane/batchplane/shared/workflow"
)

// StateMachineFile is the run state machine, defined once for CDK, SAM and
// the local runner.
const StateMachineFile = "infra/statemachines/run.asl.json"

// Executions runs run workflows with the local state machine runner; it
// implements runs.Executions.
type Executions struct {
	Runner *asl.Runner
	Store  execution.Store
	ctx    context.Context
	wg     sync.WaitGroup
}

var _ runs.Executions = (*Executions)(nil)

// LoadMachine reads and validates the run state machine from the repository.
func LoadMachine(root string) (*asl.Machine, error) {
	b, err := os.ReadFile(filepath.Join(root, StateMachineFile))
	if err != nil {
		return nil, err
	}
	return asl.Parse(b)
}

// NewExecutions returns a runner of m bound to wf's tasks, keeping its
// checkpoints in table; executions live as long as ctx. onTransition, if
// set, is called on every state entered.
func NewExecutions(ctx context.Context, m *asl.Machine, wf *workflow.Workflow, db *dynamodb.Client, table string,
	onTransition func(execution, state string)) *Executions {
	st := store.NewExecutions(db, table)
	return &Executions{Store: st, ctx: ctx, Runner: &asl.Runner{
		Machine:      m,
		Store:        st,
		Resolve:      resolver(wf),
		OnTransition: onTransition,
	}}
}

// resolver maps the definition's FunctionName placeholders
// (routes.Task.Placeholder) to wf's tasks (workflow.Tasks).
func resolver(wf *workflow.Workflow) func(functionName string) (asl.TaskFunc, bool) {
	tasks := map[string]workflow.Task{}
	for _, t := range workflow.Tasks {
		tasks[t.Name.Placeholder()] = t
	}
	return func(fn string) (asl.TaskFunc, bool) {
		t, ok := tasks[fn]
		if !ok {
			return nil, false
		}
		return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			var in runs.Input
			if err := json.Unmarshal(payload, &in); err != nil {
				return nil, fmt.Errorf("task payload: %w", err)
			}
			out, err := t.Run(wf, ctx, in)
			if err != nil {
				return nil, err
			}
			return json.Marshal(out)
		}, true
	}
}

// Start implements runs.Executions: the execution runs in the background.
func (e *Executions) Start(_ context.Context, name string, input []byte) error {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		cp, err := e.Runner.Start(e.ctx, name, input)
		if err != nil && !errors.Is(err, context.Canceled) {
			slog.Error("execution", "name", name, "err", err)
			return
		}
		if cp.Status == execution.Failed {
			slog.Warn("execution failed", "name", name, "error", cp.Error, "cause", cp.Cause)
		}
	}()
	return nil
}

// Resume implements runs.Executions. A token from before a restart is
// unknown: the resumed wait step sees the stop request itself.
func (e *Executions) Resume(_ context.Context, token string, output []byte) error {
	if err := e.Runner.SendTaskSuccess(token, output); err != nil && !errors.Is(err, asl.ErrUnknownToken) {
		return err
	}
	return nil
}

// ResumeAll restarts every execution a previous process left running.
func (e *Executions) ResumeAll(ctx context.Context) (int, error) {
	names, err := e.Store.Running(ctx)
	if err != nil {
		return 0, err
	}
	for _, n := range names {
		if err := e.Start(ctx, n, nil); err != nil {
			return 0, err
		}
	}
	return len(names), nil
}

// Wait waits for running executions to return (after ctx is cancelled).
func (e *Executions) Wait() { e.wg.Wait() }
