// Package execution describes a run workflow execution's checkpoint: the
// state the local state machine runner (shared/local/asl) is in, persisted
// after every transition so a restarted `make run` resumes its runs. Step
// Functions keeps this state itself in AWS. It imports neither HTTP nor the
// AWS SDK.
package execution

import (
	"context"
	"encoding/json"
	"time"
)

// Statuses of an execution.
const (
	Running   = "RUNNING"
	Succeeded = "SUCCEEDED"
	Failed    = "FAILED"
)

// Checkpoint is an execution's persisted state.
type Checkpoint struct {
	// Name is the execution's name (the RunRequestId).
	Name string
	// State is the state being run (Running) or the last one.
	State string
	// Input is State's input.
	Input  json.RawMessage
	Status string
	// Output is the execution's output once it Succeeded.
	Output json.RawMessage
	// Error and Cause say why it Failed.
	Error       string
	Cause       string
	Transitions int
	StartedAt   time.Time
}

// Store persists checkpoints.
type Store interface {
	// Save writes cp, replacing the execution's previous checkpoint.
	Save(ctx context.Context, cp Checkpoint) error
	// Load reads an execution's checkpoint; ok is false if there is none.
	Load(ctx context.Context, name string) (cp Checkpoint, ok bool, err error)
	// Running lists the names of the executions not yet finished.
	Running(ctx context.Context) ([]string, error)
}
