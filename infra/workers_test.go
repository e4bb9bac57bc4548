package main

import (
	"testing"

	"github.com/batchplane/batchplane/shared/routes"
)

func TestRunWorkflow(t *testing.T) {
	s := testStack(t)
	sms := s.ofType("AWS::StepFunctions::StateMachine")
	if len(sms) != 1 {
		t.Fatalf("%d state machines", len(sms))
	}
	for _, sm := range sms {
		p := sm.Properties
		if p["TracingConfiguration"].(map[string]any)["Enabled"] != true {
			t.Error("state machine tracing off")
		}
		subs, _ := p["DefinitionSubstitutions"].(map[string]any)
		for _, w := range routes.Workers {
			if w.Task != "" && subs[w.Task+"FunctionArn"] == nil {
				t.Errorf("no substitution for %s", w.Task)
			}
		}
	}
	rules := s.ofType("AWS::Events::Rule")
	if len(rules) != 2 {
		t.Fatalf("%d rules, want 2 (EC2 events, sweep)", len(rules))
	}
	for id, r := range rules {
		for _, tg := range r.Properties["Targets"].([]any) {
			m := tg.(map[string]any)
			if m["DeadLetterConfig"] == nil || m["RetryPolicy"] == nil {
				t.Errorf("rule %s target without retry policy or dead-letter queue", id)
			}
		}
	}
}
