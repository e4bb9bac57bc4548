package asl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"sync"
	"time"

	"github.com/batchplane/batchplane/shared/execution"
)

// TaskFunc is a task handler: it receives the Lambda payload.
type TaskFunc func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error)

// Runner executes a machine.
type Runner struct {
	Machine *Machine
	// Resolve maps a task's Parameters.FunctionName to its handler.
	Resolve func(functionName string) (TaskFunc, bool)
	Store   execution.Store
	Sleep   func(ctx context.Context, d time.Duration) error
	// OnTransition, when set, is called on every state entered.
	OnTransition func(execution, state string)

	waiting sync.Map // token → chan json.RawMessage
}

// ErrUnknownToken is returned by SendTaskSuccess for a token no task waits on.
var ErrUnknownToken = errors.New("asl: task token not found")

// SendTaskSuccess completes the task waiting on token with output.
func (r *Runner) SendTaskSuccess(token string, output json.RawMessage) error {
	if ch, ok := r.waiting.Load(token); ok {
		select {
		case ch.(chan json.RawMessage) <- output:
		default:
		}
		return nil
	}
	return ErrUnknownToken
}

// taskError is an error with a States name.
type taskError struct{ name, cause string }

func (e *taskError) Error() string { return e.name + ": " + e.cause }

// ErrorName is the name Step Functions gives a Go task error: its type's
// name, as the Lambda runtime reports errorType.
func ErrorName(err error) string {
	var te *taskError
	if errors.As(err, &te) {
		return te.name
	}
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Start runs (or resumes) the execution called name to its end. An
// execution that already finished is not run again; one that outlives the
// machine's TimeoutSeconds (counted from its first start) fails with
// States.Timeout, as in Step Functions, without its Catch.
func (r *Runner) Start(ctx context.Context, name string, input json.RawMessage) (execution.Checkpoint, error) {
	cp := execution.Checkpoint{Name: name, State: r.Machine.StartAt, Input: input, Status: execution.Running, StartedAt: time.Now().UTC()}
	if r.Store != nil {
		prev, ok, err := r.Store.Load(ctx, name)
		if err != nil {
			return cp, err
		}
		if ok {
			if prev.Status != execution.Running {
				return prev, nil
			}
			cp = prev
		}
	}
	runCtx := ctx
	if r.Machine.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, cp.StartedAt.Add(time.Duration(r.Machine.TimeoutSeconds)*time.Second))
		defer cancel()
	}
	for {
		s := r.Machine.States[cp.State]
		cp.Transitions++
		if r.OnTransition != nil {
			r.OnTransition(name, cp.State)
		}
		if err := r.save(ctx, cp); err != nil {
			return cp, err
		}
		out, next, err := r.step(runCtx, name, cp.State, s, cp.Input)
		if ctx.Err() != nil {
			return cp, ctx.Err() // stopped: resume from this state later
		}
		if runCtx.Err() != nil {
			err = &taskError{name: "States.Timeout", cause: "the execution timed out"}
		}
		switch {
		case err != nil:
			cp.Status, cp.Error, cp.Cause = execution.Failed, ErrorName(err), causeOf(err)
		case next == "":
			cp.Status, cp.Output = execution.Succeeded, out
		default:
			cp.State, cp.Input = next, out
			continue
		}
		return cp, r.save(ctx, cp)
	}
}

// save checkpoints cp, if the runner has a store.
func (r *Runner) save(ctx context.Context, cp execution.Checkpoint) error {
	if r.Store == nil {
		return nil
	}
	return r.Store.Save(ctx, cp)
}

// step runs one state and returns its output and the next state ("" = end).
func (r *Runner) step(ctx context.Context, exec, name string, s *State, input json.RawMessage) (json.RawMessage, string, error) {
	in, err := applyPath(input, s.InputPath)
	if err != nil {
		return nil, "", err
	}
	var out json.RawMessage
	switch s.Type {
	case "Succeed":
		out, err := applyPath(in, s.OutputPath)
		return out, "", err
	case "Fail":
		return nil, "", &taskError{name: s.Error, cause: s.Cause}
	case "Choice":
		for _, c := range s.Choices {
			if match(in, c) {
				return in, c.Next, nil
			}
		}
		if s.Default == "" {
			return nil, "", &taskError{name: "States.NoChoiceMatched", cause: "no choice matched in " + name}
		}
		return in, s.Default, nil
	case "Wait":
		if err := r.sleep(ctx, time.Duration(s.Seconds)*time.Second); err != nil {
			return nil, "", err
		}
		out = in
	case "Pass":
		out = in
		if s.Result != nil {
			out = s.Result
		} else if s.Parameters != nil {
			if out, err = render(s.Parameters, in, contextObject(exec, name, "")); err != nil {
				return nil, "", err
			}
		}
		if out, err = applyResultPath(input, out, s.ResultPath, s.nullResultPath); err != nil {
			return nil, "", err
		}
	case "Task":
		res, err := r.task(ctx, exec, name, s, in)
		if err != nil {
			for _, c := range s.Catch {
				if matches(c.ErrorEquals, err) {
					info, _ := json.Marshal(map[string]string{"Error": ErrorName(err), "Cause": causeOf(err)})
					out, perr := applyResultPath(input, info, c.ResultPath, c.nullPath)
					if perr != nil {
						return nil, "", perr
					}
					return out, c.Next, nil
				}
			}
			return nil, "", err
		}
		if out, err = applyResultPath(input, res, s.ResultPath, s.nullResultPath); err != nil {
			return nil, "", err
		}
	}
	out, err = applyPath(out, s.OutputPath)
	if err != nil {
		return nil, "", err
	}
	if s.End {
		return out, "", nil
	}
	return out, s.Next, nil
}

func causeOf(err error) string {
	var te *taskError
	if errors.As(err, &te) {
		return te.cause
	}
	return err.Error()
}

// matches reports whether an error name is in ErrorEquals (States.ALL
// matches everything; States.TaskFailed every task error but a timeout).
func matches(names []string, err error) bool {
	n := ErrorName(err)
	for _, e := range names {
		if e == n || e == "States.ALL" || (e == "States.TaskFailed" && n != "States.Timeout") {
			return true
		}
	}
	return false
}

// task runs a Task state with its retries.
func (r *Runner) task(ctx context.Context, exec, name string, s *State, in json.RawMessage) (json.RawMessage, error) {
	attempts := map[int]int{}
	for {
		res, err := r.invoke(ctx, exec, name, s, in)
		if err == nil {
			if s.ResultSelector != nil {
				return render(s.ResultSelector, res, contextObject(exec, name, ""))
			}
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		retried := false
		for i, rt := range s.Retry {
			if !matches(rt.ErrorEquals, err) {
				continue
			}
			maxAttempts := 3
			if rt.MaxAttempts != nil {
				maxAttempts = *rt.MaxAttempts
			}
			if attempts[i] >= maxAttempts {
				break
			}
			interval, rate := 1.0, 2.0
			if rt.IntervalSeconds != nil {
				interval = *rt.IntervalSeconds
			}
			if rt.BackoffRate != nil {
				rate = *rt.BackoffRate
			}
			d := interval * math.Pow(rate, float64(attempts[i]))
			if rt.MaxDelaySeconds != nil && d > *rt.MaxDelaySeconds {
				d = *rt.MaxDelaySeconds
			}
			attempts[i]++
			if err := r.sleep(ctx, time.Duration(d*float64(time.Second))); err != nil {
				return nil, err
			}
			retried = true
			break
		}
		if !retried {
			return nil, err
		}
	}
}

func newToken(exec, state string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return exec + ":" + state + ":" + hex.EncodeToString(b)
}

// invoke calls the task's handler once, with its timeout.
func (r *Runner) invoke(ctx context.Context, exec, name string, s *State, in json.RawMessage) (json.RawMessage, error) {
	token := ""
	var ch chan json.RawMessage
	if s.Resource == LambdaInvokeWait {
		token = newToken(exec, name)
		ch = make(chan json.RawMessage, 1)
		r.waiting.Store(token, ch)
		defer r.waiting.Delete(token)
	}
	params, err := render(s.Parameters, in, contextObject(exec, name, token))
	if err != nil {
		return nil, err
	}
	var p struct {
		FunctionName string
		Payload      json.RawMessage
	}
	if err := json.Unmarshal(params, &p); err != nil || p.FunctionName == "" {
		return nil, &taskError{name: "States.Runtime", cause: "task " + name + " has no Parameters.FunctionName"}
	}
	fn, ok := r.Resolve(p.FunctionName)
	if !ok {
		return nil, &taskError{name: "States.Runtime", cause: "no handler for " + p.FunctionName}
	}
	tctx := ctx
	if s.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, time.Duration(s.TimeoutSeconds)*time.Second)
		defer cancel()
	}
	out, err := fn(tctx, p.Payload)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, &taskError{name: "States.Timeout", cause: "task " + name + " timed out"}
		}
		return nil, err
	}
	if s.Resource == LambdaInvoke {
		return json.Marshal(map[string]any{"Payload": json.RawMessage(out), "StatusCode": 200})
	}
	select {
	case o := <-ch:
		return o, nil
	case <-tctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &taskError{name: "States.Timeout", cause: "task " + name + " was not completed in time"}
	}
}
