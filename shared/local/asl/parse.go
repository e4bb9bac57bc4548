// Package asl runs Amazon States Language definitions locally: a focused
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
// (the task gets $$.Task.Token; SendTaskSuccess completes it). The
// machine's TimeoutSeconds fails an execution with States.Timeout.
//
// run.asl.json uses Task and Fail states with Comment, Resource,
// Parameters, ResultSelector, ResultPath, TimeoutSeconds, Retry and Catch;
// the rest (Pass, Choice, Wait, Succeed, InputPath, OutputPath, Result,
// Version) each have a test of their own in asl_test.go.
//
// The package is split by concern: parse.go (the definition and its
// validation), run.go (executions, retries, task tokens, checkpoints in
// package execution's types) and paths.go (reference paths, Parameters
// templates, ResultPath and Choice rules).
package asl

import (
	"encoding/json"
	"fmt"
	"slices"
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
		return fmt.Errorf("asl: %s: %w", where, err)
	}
	for k := range m {
		if !slices.Contains(allowed[typ], k) {
			return fmt.Errorf("asl: %s: field %q is not supported by the local runner", where, k)
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
		return nil, fmt.Errorf("asl: definition: %w", err)
	}
	m := &Machine{StartAt: raw.StartAt, TimeoutSeconds: raw.TimeoutSeconds, States: map[string]*State{}}
	for name, rs := range raw.States {
		var probe struct{ Type string }
		if err := json.Unmarshal(rs, &probe); err != nil {
			return nil, fmt.Errorf("asl: state %s: %w", name, err)
		}
		if _, ok := allowed[probe.Type]; !ok || probe.Type == "" {
			return nil, fmt.Errorf("asl: state %s: type %q is not supported by the local runner", name, probe.Type)
		}
		if err := checkKeys(rs, "state "+name, probe.Type); err != nil {
			return nil, err
		}
		var s State
		if err := json.Unmarshal(rs, &s); err != nil {
			return nil, fmt.Errorf("asl: state %s: %w", name, err)
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
			return nil, fmt.Errorf("asl: state %s: resource %q is not supported by the local runner", name, s.Resource)
		}
		m.States[name] = &s
	}
	if _, ok := m.States[m.StartAt]; !ok {
		return nil, fmt.Errorf("asl: StartAt %q is not a state", m.StartAt)
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
				return nil, fmt.Errorf("asl: state %s: next state %q does not exist", name, t)
			}
		}
		terminal := s.Type == "Succeed" || s.Type == "Fail" || s.Type == "Choice"
		if !terminal && (s.Next == "") == !s.End {
			return nil, fmt.Errorf("asl: state %s: exactly one of Next and End is required", name)
		}
	}
	return m, nil
}
