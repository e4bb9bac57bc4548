package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/runs"
)

// InstanceEvent is an EC2 event about one instance, from EventBridge in AWS
// or the local cloud on a laptop.
type InstanceEvent struct {
	ID          string // the event id, for logs
	InstanceID  string
	State       string // EC2 state; "" for a spot interruption warning
	Interrupted bool
	Time        time.Time
}

// EventBridge detail types batchplane reacts to.
const (
	DetailStateChange      = "EC2 Instance State-change Notification"
	DetailSpotInterruption = "EC2 Spot Instance Interruption Warning"
)

// ParseEvent reads an EventBridge event (the envelope AWS sends); ok is
// false for events batchplane does not handle.
func ParseEvent(raw []byte) (InstanceEvent, bool, error) {
	var e struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Time       time.Time       `json:"time"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return InstanceEvent{}, false, fmt.Errorf("event: %w", err)
	}
	var d struct {
		InstanceID     string `json:"instance-id"`
		State          string `json:"state"`
		InstanceAction string `json:"instance-action"`
	}
	if e.Source != "aws.ec2" || len(e.Detail) == 0 {
		return InstanceEvent{}, false, nil
	}
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		return InstanceEvent{}, false, fmt.Errorf("event %s detail: %w", e.ID, err)
	}
	if d.InstanceID == "" {
		return InstanceEvent{}, false, nil
	}
	ev := InstanceEvent{ID: e.ID, InstanceID: d.InstanceID, Time: e.Time}
	switch e.DetailType {
	case DetailStateChange:
		ev.State = d.State
	case DetailSpotInterruption:
		ev.Interrupted = true
	default:
		return InstanceEvent{}, false, nil
	}
	return ev, true, nil
}

// HandleEvent applies one instance event to its run; duplicated and
// reordered events are no-ops, and an applied event that loses an instance
// reconciles the run (launching a replacement).
func (w *Workflow) HandleEvent(ctx context.Context, ev InstanceEvent) error {
	runID, err := w.Runs.RunOfInstance(ctx, ev.InstanceID)
	if errs.Is(err, errs.NotFound) {
		return nil // not an instance of ours
	}
	if err != nil {
		return err
	}
	applied, err := w.Runs.ApplyInstanceEvent(ctx, runID, ev.InstanceID, ev.State, ev.Interrupted, ev.Time)
	if err != nil || !applied {
		return err
	}
	if ev.Interrupted {
		w.log(ctx, runID, "interrupt-"+ev.InstanceID, runs.Warning, "Spot interruption warning for %s", ev.InstanceID)
	}
	switch {
	case ev.Interrupted, ev.State == cloud.StateShuttingDown, ev.State == cloud.StateTerminated,
		ev.State == cloud.StateStopping, ev.State == cloud.StateStopped:
		return w.Reconcile(ctx, runID)
	}
	return nil
}

// Sweep reconciles every active run: the safety net for lost events, run
// on a slow schedule (EventBridge rule in AWS, a ticker locally).
func (w *Workflow) Sweep(ctx context.Context) error {
	ids, err := w.Runs.ActiveRuns(ctx)
	if err != nil {
		return err
	}
	var errsOut []error
	for _, id := range ids {
		if err := w.Reconcile(ctx, id); err != nil {
			errsOut = append(errsOut, fmt.Errorf("reconcile %s: %w", id, err))
		}
	}
	return errors.Join(errsOut...)
}
