// Package sfn runs Amazon States Language definitions locally: a focused
// interpreter of exactly the states and fields batchplane's run state
// machine (infra/statemachines/run.asl.json) uses, so `make run` executes
// the very definition Step Functions runs in AWS, with the same Go task
// handlers. Parse rejects anything outside that subset, so the definition
// cannot drift into features the local runner would silently ignore.
//
// Supported: top-level Comment, StartAt, States, TimeoutSeconds, Version;
// states Task, Pass, Choice (StringEquals, BooleanEquals, IsPresent on a
// Variable; Default), Wait (Seconds), Succeed, Fail; fields Next, End,
// Comment, Parameters (with "key.$" paths into the input or "$$." the
// context object), ResultSelector, ResultPath (including null), OutputPath,
// InputPath, Result (Pass), Resource, TimeoutSeconds, Retry (ErrorEquals,
// IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds,
// JitterStrategy), Catch (ErrorEquals, Next, ResultPath), Error and Cause.
// Task resources: "arn:aws:states:::lambda:invoke" (result wrapped as
// {"Payload": …} like AWS) and "arn:aws:states:::lambda:invoke.waitForTaskToken"
// (the task gets $$.Task.Token; SendTaskSuccess completes it).
package sfn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Task integrations.
const (
	LambdaInvoke     = "arn:aws:states:::lambda:invoke"
	LambdaInvokeWait = "arn:aws:states:::lambda:invoke.waitForTaskToken"
)

// Retrier is one Retry entry.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds *float64
	MaxAttempts     *int
	BackoffRate     *float64
	MaxDelaySeconds *float64
	JitterStrategy  string
}

// Catcher is one Catch entry.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  *string
	nullPath    bool
}

// ChoiceRule is one rule of a Choice state.
type ChoiceRule struct {
	Variable      string
	StringEquals  *string
	BooleanEquals *bool
	IsPresent     *bool
	Next          string
}

// State is one state of the machine.
type State struct {
	Type           string
	Comment        string
	Next           string
	End            bool
	Resource       string
	Parameters     json.RawMessage
	ResultSelector json.RawMessage
	Result         json.RawMessage
	InputPath      *string
	OutputPath     *string
	ResultPath     *string
	TimeoutSeconds int
	Seconds        int
	Retry          []Retrier
	Catch          []Catcher
	Choices        []ChoiceRule
	Default        string
	Error          string
	Cause          string
	nullResultPath bool
}

// Machine is a parsed, validated definition.
type Machine struct {
	StartAt        string
	TimeoutSeconds int
	States         map[string]*State
}

var allowed = map[string][]string{
	"":        {"Comment", "StartAt", "States", "TimeoutSeconds", "Version"},
	"Task":    {"Type", "Comment", "Next", "End", "Resource", "Parameters", "ResultSelector", "ResultPath", "InputPath", "OutputPath", "TimeoutSeconds", "Retry", "Catch"},
	"Pass":    {"Type", "Comment", "Next", "End", "Parameters", "Result", "ResultPath", "InputPath", "OutputPath"},
	"Choice":  {"Type", "Comment", "Choices", "Default", "InputPath", "OutputPath"},
	"Wait":    {"Type", "Comment", "Next", "End", "Seconds", "InputPath", "OutputPath"},
	"Succeed": {"Type", "Comment", "InputPath", "OutputPath"},
	"Fail":    {"Type", "Comment", "Error", "Cause"},
}

func checkKeys(raw json.RawMessage, where, typ string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("sfn: %s: %w", where, err)
	}
	for k := range m {
		if !slices.Contains(allowed[typ], k) {
			return fmt.Errorf("sfn: %s: field %q is not supported by the local runner", where, k)
		}
	}
	return nil
}

// Parse parses and validates a definition.
func Parse(def []byte) (*Machine, error) {
	if err := checkKeys(def, "definition", ""); err != nil {
		return nil, err
	}
	var raw struct {
		StartAt        string
		TimeoutSeconds int
		States         map[string]json.RawMessage
	}
	if err := json.Unmarshal(def, &raw); err != nil {
		return nil, fmt.Errorf("sfn: definition: %w", err)
	}
	m := &Machine{StartAt: raw.StartAt, TimeoutSeconds: raw.TimeoutSeconds, States: map[string]*State{}}
	for name, rs := range raw.States {
		var probe struct{ Type string }
		if err := json.Unmarshal(rs, &probe); err != nil {
			return nil, fmt.Errorf("sfn: state %s: %w", name, err)
		}
		if _, ok := allowed[probe.Type]; !ok || probe.Type == "" {
			return nil, fmt.Errorf("sfn: state %s: type %q is not supported by the local runner", name, probe.Type)
		}
		if err := checkKeys(rs, "state "+name, probe.Type); err != nil {
			return nil, err
		}
		var s State
		if err := json.Unmarshal(rs, &s); err != nil {
			return nil, fmt.Errorf("sfn: state %s: %w", name, err)
		}
		var nulls map[string]json.RawMessage
		_ = json.Unmarshal(rs, &nulls)
		s.nullResultPath = string(nulls["ResultPath"]) == "null"
		var catches []map[string]json.RawMessage
		_ = json.Unmarshal(nulls["Catch"], &catches)
		for i := range s.Catch {
			if i < len(catches) {
				s.Catch[i].nullPath = string(catches[i]["ResultPath"]) == "null"
			}
		}
		if s.Type == "Task" && s.Resource != LambdaInvoke && s.Resource != LambdaInvokeWait {
			return nil, fmt.Errorf("sfn: state %s: resource %q is not supported by the local runner", name, s.Resource)
		}
		m.States[name] = &s
	}
	if _, ok := m.States[m.StartAt]; !ok {
		return nil, fmt.Errorf("sfn: StartAt %q is not a state", m.StartAt)
	}
	for name, s := range m.States {
		targets := []string{s.Next, s.Default}
		for _, c := range s.Catch {
			targets = append(targets, c.Next)
		}
		for _, c := range s.Choices {
			targets = append(targets, c.Next)
		}
		for _, t := range targets {
			if _, ok := m.States[t]; t != "" && !ok {
				return nil, fmt.Errorf("sfn: state %s: next state %q does not exist", name, t)
			}
		}
		terminal := s.Type == "Succeed" || s.Type == "Fail" || s.Type == "Choice"
		if !terminal && (s.Next == "") == !s.End {
			return nil, fmt.Errorf("sfn: state %s: exactly one of Next and End is required", name)
		}
	}
	return m, nil
}

// TaskFunc is a task handler: it receives the Lambda payload.
type TaskFunc func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error)

// Statuses of an execution.
const (
	Running   = "RUNNING"
	Succeeded = "SUCCEEDED"
	Failed    = "FAILED"
)

// Checkpoint is an execution's persisted state.
type Checkpoint struct {
	Name        string
	State       string
	Input       json.RawMessage
	Status      string
	Output      json.RawMessage
	Error       string
	Cause       string
	Transitions int
	StartedAt   time.Time
}

// Checkpointer persists executions so a restarted process resumes them.
type Checkpointer interface {
	Save(ctx context.Context, cp Checkpoint) error
	Load(ctx context.Context, name string) (Checkpoint, bool, error)
}

// Runner executes a machine.
type Runner struct {
	Machine *Machine
	// Resolve maps a task's Parameters.FunctionName to its handler.
	Resolve func(functionName string) (TaskFunc, bool)
	Store   Checkpointer
	Sleep   func(ctx context.Context, d time.Duration) error
	// OnTransition, when set, is called on every state entered.
	OnTransition func(execution, state string)

	waiting sync.Map // token → chan json.RawMessage
}

// ErrUnknownToken is returned by SendTaskSuccess for a token no task waits on.
var ErrUnknownToken = errors.New("sfn: task token not found")

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
// execution that already finished is not run again.
func (r *Runner) Start(ctx context.Context, name string, input json.RawMessage) (Checkpoint, error) {
	cp := Checkpoint{Name: name, State: r.Machine.StartAt, Input: input, Status: Running, StartedAt: time.Now().UTC()}
	if r.Store != nil {
		prev, ok, err := r.Store.Load(ctx, name)
		if err != nil {
			return cp, err
		}
		if ok {
			if prev.Status != Running {
				return prev, nil
			}
			cp = prev
		}
	}
	for {
		s := r.Machine.States[cp.State]
		cp.Transitions++
		if r.OnTransition != nil {
			r.OnTransition(name, cp.State)
		}
		if r.Store != nil {
			if err := r.Store.Save(ctx, cp); err != nil {
				return cp, err
			}
		}
		out, next, err := r.step(ctx, name, cp.State, s, cp.Input)
		if ctx.Err() != nil {
			return cp, ctx.Err() // stopped: resume from this state later
		}
		switch {
		case err != nil:
			cp.Status, cp.Error, cp.Cause = Failed, ErrorName(err), err.Error()
			var te *taskError
			if errors.As(err, &te) {
				cp.Cause = te.cause
			}
		case next == "":
			cp.Status, cp.Output = Succeeded, out
		default:
			cp.State, cp.Input = next, out
			continue
		}
		if r.Store != nil {
			if err := r.Store.Save(ctx, cp); err != nil {
				return cp, err
			}
		}
		return cp, nil
	}
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

func contextObject(exec, state, token string) map[string]any {
	c := map[string]any{
		"Execution": map[string]any{"Name": exec, "Id": "local:" + exec},
		"State":     map[string]any{"Name": state},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	return c
}

// render evaluates a Parameters or ResultSelector template.
func render(tmpl json.RawMessage, input json.RawMessage, ctxObj map[string]any) (json.RawMessage, error) {
	if tmpl == nil {
		return input, nil
	}
	var t any
	if err := json.Unmarshal(tmpl, &t); err != nil {
		return nil, err
	}
	var in any
	_ = json.Unmarshal(input, &in)
	v, err := renderValue(t, in, ctxObj)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func renderValue(t any, in any, ctxObj map[string]any) (any, error) {
	switch v := t.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if strings.HasSuffix(k, ".$") {
				path, ok := x.(string)
				if !ok {
					return nil, &taskError{name: "States.Runtime", cause: k + " is not a path"}
				}
				root := in
				if strings.HasPrefix(path, "$$") {
					root, path = ctxObj, path[1:]
				}
				val, err := lookup(root, path)
				if err != nil {
					return nil, err
				}
				out[strings.TrimSuffix(k, ".$")] = val
				continue
			}
			r, err := renderValue(x, in, ctxObj)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := renderValue(x, in, ctxObj)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return t, nil
}

// lookup evaluates a reference path ($, $.a.b) on v.
func lookup(v any, path string) (any, error) {
	if path == "$" {
		return v, nil
	}
	rest, ok := strings.CutPrefix(path, "$.")
	if !ok {
		return nil, &taskError{name: "States.Runtime", cause: "unsupported path " + path}
	}
	cur := v
	for _, part := range strings.Split(rest, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, &taskError{name: "States.Runtime", cause: "path " + path + " does not exist"}
		}
		if cur, ok = m[part]; !ok {
			return nil, &taskError{name: "States.Runtime", cause: "path " + path + " does not exist"}
		}
	}
	return cur, nil
}

func applyPath(v json.RawMessage, path *string) (json.RawMessage, error) {
	if path == nil || *path == "$" {
		return v, nil
	}
	var in any
	_ = json.Unmarshal(v, &in)
	out, err := lookup(in, *path)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// applyResultPath places result into input at path (null keeps the input).
func applyResultPath(input, result json.RawMessage, path *string, null bool) (json.RawMessage, error) {
	if null {
		return input, nil
	}
	if path == nil || *path == "$" {
		return result, nil
	}
	rest, ok := strings.CutPrefix(*path, "$.")
	if !ok {
		return nil, &taskError{name: "States.Runtime", cause: "unsupported ResultPath " + *path}
	}
	var in map[string]any
	if err := json.Unmarshal(input, &in); err != nil || in == nil {
		in = map[string]any{}
	}
	var res any
	_ = json.Unmarshal(result, &res)
	parts := strings.Split(rest, ".")
	cur := in
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = res
	return json.Marshal(in)
}

func match(input json.RawMessage, c ChoiceRule) bool {
	var in any
	_ = json.Unmarshal(input, &in)
	v, err := lookup(in, c.Variable)
	switch {
	case c.IsPresent != nil:
		return (err == nil) == *c.IsPresent
	case err != nil:
		return false
	case c.StringEquals != nil:
		s, ok := v.(string)
		return ok && s == *c.StringEquals
	case c.BooleanEquals != nil:
		b, ok := v.(bool)
		return ok && b == *c.BooleanEquals
	}
	return false
}
