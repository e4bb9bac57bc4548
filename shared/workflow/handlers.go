package workflow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/runs"
)

// Task is one run state machine task: its name in routes.Workers (which
// names its Lambda function) and the Workflow method that runs it. A
// task's main starts it by value (app.Task(workflow.Provision)); the local
// state machine runner resolves the definition's ${<Name>FunctionArn}
// through Tasks.
type Task struct {
	Name routes.Task
	Run  func(w *Workflow, ctx context.Context, in runs.Input) (runs.Input, error)
}

// The run state machine's tasks.
var (
	CreateRun  = Task{Name: routes.TaskCreateRun, Run: (*Workflow).CreateRun}
	Provision  = Task{Name: routes.TaskProvision, Run: (*Workflow).Provision}
	AwaitStop  = Task{Name: routes.TaskAwaitStop, Run: (*Workflow).AwaitStop}
	StopRun    = Task{Name: routes.TaskStopRun, Run: (*Workflow).StopRun}
	Finalize   = Task{Name: routes.TaskFinalize, Run: (*Workflow).Finalize}
	Compensate = Task{Name: routes.TaskCompensate, Run: (*Workflow).Compensate}
)

// Tasks lists every task; a test checks it against routes.Workers and the
// definition.
var Tasks = []Task{CreateRun, Provision, AwaitStop, StopRun, Finalize, Compensate}

// Handler is the task's Lambda handler on w: the runtime decodes the
// state machine's payload into runs.Input, and a returned error's type
// name becomes the errorType that the definition's Retry and Catch match
// (TransientError is retried), so errors are returned as the task made them.
func (t Task) Handler(w *Workflow) func(context.Context, runs.Input) (runs.Input, error) {
	return func(ctx context.Context, in runs.Input) (runs.Input, error) { return t.Run(w, ctx, in) }
}

// EventsHandler is the EC2 events function's Lambda handler (EventBridge:
// EC2 Instance State-change Notification, EC2 Spot Instance Interruption
// Warning). Events about instances batchplane did not launch are ignored.
func (w *Workflow) EventsHandler() func(context.Context, json.RawMessage) error {
	return func(ctx context.Context, raw json.RawMessage) error {
		ev, ok, err := ParseEvent(raw)
		if err != nil || !ok {
			return err
		}
		if err := w.HandleEvent(ctx, ev); err != nil {
			return fmt.Errorf("event %s: %w", ev.ID, err)
		}
		return nil
	}
}

// SweepHandler is the safety sweep function's Lambda handler (an
// EventBridge schedule, whose payload it ignores).
func (w *Workflow) SweepHandler() func(context.Context, json.RawMessage) error {
	return func(ctx context.Context, _ json.RawMessage) error { return w.Sweep(ctx) }
}
