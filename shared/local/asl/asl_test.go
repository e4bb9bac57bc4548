package asl

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/execution"
)

// memory is an in-memory execution.Store (the state lives in DynamoDB in
// the service; see store.Executions).
type memory struct {
	mu sync.Mutex
	m  map[string]execution.Checkpoint
}

func (s *memory) Save(_ context.Context, cp execution.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]execution.Checkpoint{}
	}
	s.m[cp.Name] = cp
	return nil
}

func (s *memory) Load(_ context.Context, name string) (execution.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.m[name]
	return cp, ok, nil
}

func (s *memory) Running(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, cp := range s.m {
		if cp.Status == execution.Running {
			out = append(out, name)
		}
	}
	return out, nil
}

func task(name string, body string) string {
	return `"` + name + `": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
		"Parameters": {"FunctionName": "` + name + `", "Payload.$": "$"}, ` + body + `}`
}

// TestResultPathExamples follows the ASL specification's InputPath,
// Parameters, ResultPath and OutputPath examples (ResultPath
// "$.master.detail" is the specification's own).
func TestResultPathExamples(t *testing.T) {
	tests := []struct {
		name, state, input, want string
	}{
		{"ResultPath $.master.detail (spec)", `"Result": "foo", "ResultPath": "$.master.detail"`,
			`{"master": {"detail": [1, 2, 3]}}`, `{"master":{"detail":"foo"}}`},
		{"ResultPath null keeps the input", `"Result": {"x": 1}, "ResultPath": null`, `{"a": 1}`, `{"a":1}`},
		{"ResultPath $ replaces", `"Result": {"x": 1}`, `{"a": 1}`, `{"x":1}`},
		{"array index paths are outside the subset: the execution fails", `"Parameters": {"flagged": true, "parts": {"first.$": "$.vals[0]", "last.$": "$.last"}}, "ResultPath": "$.out"`,
			`{"last": 3}`, ``},
		{"InputPath and OutputPath", `"InputPath": "$.in", "Parameters": {"v.$": "$.x"}, "ResultPath": "$.r", "OutputPath": "$.r"`,
			`{"in": {"x": 7}}`, `{"v":7}`},
		{"context object", `"Parameters": {"exec.$": "$$.Execution.Name", "state.$": "$$.State.Name"}`, `{}`, `{"exec":"e1","state":"S"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt": "S", "States": {"S": {"Type": "Pass", ` + tt.state + `, "End": true}}}`
			m, err := Parse([]byte(def))
			if err != nil {
				t.Fatal(err)
			}
			cp, err := (&Runner{Machine: m}).Start(context.Background(), "e1", json.RawMessage(tt.input))
			if tt.want == "" { // a path that does not exist fails the execution
				if err != nil || cp.Status != execution.Failed || cp.Error != "States.Runtime" {
					t.Fatalf("got %+v %v, want a States.Runtime failure", cp, err)
				}
				return
			}
			if err != nil || cp.Status != execution.Succeeded || compact(cp.Output) != tt.want {
				t.Fatalf("got %s (%s %s) %v, want %s", cp.Output, cp.Status, cp.Cause, err, tt.want)
			}
		})
	}
}

type flaky struct{ msg string }

func (e *flaky) Error() string { return e.msg }

// TestRetryAndCatch checks backoff intervals (IntervalSeconds ×
// BackoffRate^n capped by MaxDelaySeconds), error names from Go types,
// Catch with ResultPath, States.ALL and Fail states.
func TestRetryAndCatch(t *testing.T) {
	def := `{"StartAt": "Work", "States": {` +
		task("Work", `"Retry": [{"ErrorEquals": ["flaky"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 3, "MaxDelaySeconds": 10}],
		 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Undo"}], "ResultSelector": {"ok.$": "$.Payload.ok"}, "End": true`) + `,` +
		task("Undo", `"ResultPath": null, "Next": "Failed"`) + `,
		"Failed": {"Type": "Fail", "Error": "RunFailed", "Cause": "see log"}}}`
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		failures   int
		final      error
		wantStatus string
		wantSleeps []time.Duration
		wantUndo   string
	}{
		{"succeeds after two retries", 2, nil, execution.Succeeded, []time.Duration{2 * time.Second, 6 * time.Second}, ""},
		{"retries exhausted, caught", 4, nil, execution.Failed, []time.Duration{2 * time.Second, 6 * time.Second, 10 * time.Second}, `"Error":"flaky"`},
		{"other error caught at once", 0, errors.New("boom"), execution.Failed, nil, `"Error":"errorString"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sleeps []time.Duration
			calls := 0
			var undoInput string
			r := &Runner{Machine: m, Sleep: func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil },
				Resolve: func(fn string) (TaskFunc, bool) {
					return func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
						if fn == "Undo" {
							undoInput = string(p)
							return p, nil
						}
						calls++
						if tt.final != nil {
							return nil, tt.final
						}
						if calls <= tt.failures {
							return nil, &flaky{"try again"}
						}
						return json.RawMessage(`{"ok": true}`), nil
					}, true
				}}
			cp, err := r.Start(context.Background(), "e", json.RawMessage(`{"RunId": "R-1"}`))
			if err != nil || cp.Status != tt.wantStatus {
				t.Fatalf("status %s (%s: %s) %v", cp.Status, cp.Error, cp.Cause, err)
			}
			if tt.wantStatus == execution.Failed && (cp.Error != "RunFailed" || cp.Cause != "see log") {
				t.Errorf("fail state: %s %s", cp.Error, cp.Cause)
			}
			if tt.wantStatus == execution.Succeeded && string(cp.Output) != `{"ok":true}` {
				t.Errorf("output %s", cp.Output)
			}
			if len(sleeps) != len(tt.wantSleeps) {
				t.Fatalf("sleeps %v, want %v", sleeps, tt.wantSleeps)
			}
			for i := range sleeps {
				if sleeps[i] != tt.wantSleeps[i] {
					t.Errorf("sleep %d = %v, want %v", i, sleeps[i], tt.wantSleeps[i])
				}
			}
			if !strings.Contains(undoInput, tt.wantUndo) || (tt.wantUndo != "" && !strings.Contains(undoInput, `"RunId":"R-1"`)) {
				t.Errorf("compensation input %s, want %s and the original input", undoInput, tt.wantUndo)
			}
		})
	}
}

// TestTimeoutAndTaskToken: a task past its TimeoutSeconds fails with
// States.Timeout; a waitForTaskToken task gets $$.Task.Token and ends when
// SendTaskSuccess sends its output.
func TestTimeoutAndTaskToken(t *testing.T) {
	def := `{"StartAt": "Wait", "States": {"Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters": {"FunctionName": "Wait", "Payload": {"Token.$": "$$.Task.Token", "Id.$": "$.Id"}}, "TimeoutSeconds": 5, "End": true}}}`
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Machine: m}
	r.Resolve = func(string) (TaskFunc, bool) {
		return func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
			var in struct{ Token, Id string }
			_ = json.Unmarshal(p, &in)
			go func() { _ = r.SendTaskSuccess(in.Token, json.RawMessage(`{"done": "`+in.Id+`"}`)) }()
			return nil, nil
		}, true
	}
	cp, err := r.Start(context.Background(), "tok", json.RawMessage(`{"Id": "x"}`))
	if err != nil || cp.Status != execution.Succeeded || compact(cp.Output) != `{"done":"x"}` {
		t.Fatalf("%+v %v", cp, err)
	}
	if err := r.SendTaskSuccess("nobody", nil); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("unknown token: %v", err)
	}

	slow, _ := Parse([]byte(`{"StartAt": "S", "States": {` + task("S", `"TimeoutSeconds": 1, "End": true`) + `}}`))
	r2 := &Runner{Machine: slow, Resolve: func(string) (TaskFunc, bool) {
		return func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, true
	}}
	cp, err = r2.Start(context.Background(), "slow", json.RawMessage(`{}`))
	if err != nil || cp.Status != execution.Failed || cp.Error != "States.Timeout" {
		t.Fatalf("timeout: %+v %v", cp, err)
	}
}

// TestResumeAfterCrash: a process stopped inside a task resumes, in a new
// runner on the same store, from that task; a finished execution started
// again is not run again.
func TestResumeAfterCrash(t *testing.T) {
	def := `{"StartAt": "A", "States": {` + task("A", `"Next": "B"`) + `,` + task("B", `"Next": "C"`) + `,` + task("C", `"End": true`) + `}}`
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	store := &memory{}
	calls := map[string]int{}
	var mu sync.Mutex
	ctx, crash := context.WithCancel(context.Background())
	resolve := func(crashIn string) func(string) (TaskFunc, bool) {
		return func(fn string) (TaskFunc, bool) {
			return func(c context.Context, p json.RawMessage) (json.RawMessage, error) {
				mu.Lock()
				calls[fn]++
				mu.Unlock()
				if fn == crashIn {
					crash()
					<-c.Done()
					return nil, c.Err()
				}
				return p, nil
			}, true
		}
	}
	if _, err := (&Runner{Machine: m, Store: store, Resolve: resolve("B")}).Start(ctx, "run-1", json.RawMessage(`{"n": 1}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("crash: %v", err)
	}
	if cp, _, _ := store.Load(context.Background(), "run-1"); cp.State != "B" || cp.Status != execution.Running {
		t.Fatalf("checkpoint %+v", cp)
	}
	var transitions []string
	r := &Runner{Machine: m, Store: store, Resolve: resolve(""), OnTransition: func(_, s string) { transitions = append(transitions, s) }}
	cp, err := r.Start(context.Background(), "run-1", nil)
	if err != nil || cp.Status != execution.Succeeded || !strings.Contains(compact(cp.Output), `{"n":1}`) || cp.Transitions != 4 {
		t.Fatalf("resume: %+v %v", cp, err)
	}
	if calls["A"] != 1 || calls["B"] != 2 || calls["C"] != 1 || strings.Join(transitions, ",") != "B,C" {
		t.Fatalf("calls %v transitions %v", calls, transitions)
	}
	if again, err := r.Start(context.Background(), "run-1", nil); err != nil || again.Status != execution.Succeeded || calls["C"] != 1 {
		t.Fatalf("second start re-ran: %+v %v %v", again, err, calls)
	}
}

// TestParseRejectsWhatTheRunnerDoesNotSupport keeps the definition within
// the subset the local runner executes.
func TestParseRejectsWhatTheRunnerDoesNotSupport(t *testing.T) {
	tests := []struct{ name, def, want string }{
		{"unknown state type", `{"StartAt": "S", "States": {"S": {"Type": "Foo", "End": true}}}`, "type"},
		{"Map state", `{"StartAt": "S", "States": {"S": {"Type": "Map", "End": true}}}`, "type"},
		{"JSONata", `{"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Succeed"}}}`, "QueryLanguage"},
		{"Credentials", `{"StartAt": "S", "States": {` + task("S", `"Credentials": {}, "End": true`) + `}}`, "Credentials"},
		{"other resource", `{"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}`, "resource"},
		{"dangling Next", `{"StartAt": "S", "States": {"S": {"Type": "Pass", "Next": "Nope"}}}`, "Nope"},
		{"missing StartAt", `{"StartAt": "X", "States": {"S": {"Type": "Succeed"}}}`, "StartAt"},
		{"Next and End", `{"StartAt": "S", "States": {"S": {"Type": "Pass", "Next": "S", "End": true}}}`, "Next and End"},
		{"not JSON", `{`, "definition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// TestRunDefinitionParses: the real run state machine is within the subset.
func TestRunDefinitionParses(t *testing.T) {
	b, err := os.ReadFile("../../../infra/statemachines/run.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}`))
	f.Add([]byte(`{"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": true}}}`))
	f.Fuzz(func(t *testing.T, def []byte) {
		m, err := Parse(def)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		r := &Runner{Machine: m, Sleep: func(context.Context, time.Duration) error { return nil },
			Resolve: func(string) (TaskFunc, bool) { return nil, false }}
		_, _ = r.Start(ctx, "fuzz", json.RawMessage(`{}`))
	})
}

func compact(b json.RawMessage) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// TestStatesBeyondTheRunDefinition covers what the runner supports beyond
// what run.asl.json uses today: Choice rules (StringEquals, BooleanEquals,
// IsPresent, Default, no match), Wait, Succeed with InputPath and
// OutputPath, the top-level Version, and the machine's TimeoutSeconds.
func TestStatesBeyondTheRunDefinition(t *testing.T) {
	choice := `{"Version": "1.0", "StartAt": "C", "States": {
		"C": {"Type": "Choice", "Choices": [
			{"Variable": "$.kind", "StringEquals": "asg", "Next": "Asg"},
			{"Variable": "$.ok", "BooleanEquals": true, "Next": "Ok"},
			{"Variable": "$.maybe", "IsPresent": true, "Next": "Present"}], "Default": "Other"},
		"Asg": {"Type": "Pass", "Result": "asg", "End": true},
		"Ok": {"Type": "Pass", "Result": "ok", "End": true},
		"Present": {"Type": "Pass", "Result": "present", "End": true},
		"Other": {"Type": "Wait", "Seconds": 7, "Next": "Done"},
		"Done": {"Type": "Succeed", "InputPath": "$.in", "OutputPath": "$.x"}}}`
	noDefault := `{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
		{"Variable": "$.kind", "StringEquals": "asg", "Next": "E"}]}, "E": {"Type": "Succeed"}}}`
	tests := []struct {
		name, def, input, wantStatus, want string
		wantSleep                          time.Duration
	}{
		{"StringEquals", choice, `{"kind": "asg", "ok": true}`, execution.Succeeded, `"asg"`, 0},
		{"StringEquals on a number does not match", choice, `{"kind": 1, "ok": true}`, execution.Succeeded, `"ok"`, 0},
		{"BooleanEquals", choice, `{"kind": "ami", "ok": true}`, execution.Succeeded, `"ok"`, 0},
		{"IsPresent", choice, `{"maybe": null}`, execution.Succeeded, `"present"`, 0},
		{"Default, Wait, Succeed with paths", choice, `{"in": {"x": 5}}`, execution.Succeeded, `5`, 7 * time.Second},
		{"no rule matches and no Default", noDefault, `{"kind": "ami"}`, execution.Failed, `States.NoChoiceMatched`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.def))
			if err != nil {
				t.Fatal(err)
			}
			var slept time.Duration
			r := &Runner{Machine: m, Sleep: func(_ context.Context, d time.Duration) error { slept += d; return nil }}
			cp, err := r.Start(context.Background(), "e", json.RawMessage(tt.input))
			if err != nil || cp.Status != tt.wantStatus {
				t.Fatalf("got %+v %v, want %s", cp, err, tt.wantStatus)
			}
			got := compact(cp.Output)
			if cp.Status == execution.Failed {
				got = cp.Error
			}
			if got != tt.want || slept != tt.wantSleep {
				t.Fatalf("got %s after sleeping %v, want %s after %v", got, slept, tt.want, tt.wantSleep)
			}
		})
	}

	t.Run("execution TimeoutSeconds", func(t *testing.T) {
		m, err := Parse([]byte(`{"StartAt": "W", "TimeoutSeconds": 1, "States": {
			"W": {"Type": "Wait", "Seconds": 30, "Next": "S"}, "S": {"Type": "Succeed"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		cp, err := (&Runner{Machine: m}).Start(context.Background(), "slow", json.RawMessage(`{}`))
		if err != nil || cp.Status != execution.Failed || cp.Error != "States.Timeout" || time.Since(begin) > 10*time.Second {
			t.Fatalf("got %+v %v after %v, want States.Timeout after 1 s", cp, err, time.Since(begin))
		}
	})
}
