package main

import (
	"os"
	"path/filepath"
	"regexp"
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
			if w.Task != "" && subs[w.Task.Substitution()] == nil {
				t.Errorf("no substitution for %s", w.Task)
			}
		}
		// Every placeholder of the definition is substituted, and nothing else.
		def, err := os.ReadFile(filepath.Join("statemachines", "run.asl.json"))
		if err != nil {
			t.Fatal(err)
		}
		placeholders := map[string]bool{}
		for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(string(def), -1) {
			placeholders[m[1]] = true
			if subs[m[1]] == nil {
				t.Errorf("the definition's ${%s} has no substitution (no task in routes.Workers)", m[1])
			}
		}
		for k := range subs {
			if !placeholders[k] {
				t.Errorf("substitution %s is not used by the definition", k)
			}
		}
	}
	rules := s.ofType("AWS::Events::Rule")
	if len(rules) != 3 {
		t.Fatalf("%d rules, want 3 (EC2 events, Batch events, sweep)", len(rules))
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
