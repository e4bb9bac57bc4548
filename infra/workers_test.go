package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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
	if len(rules) != 5 {
		t.Fatalf("%d rules, want 5 (this account's and customers' EC2 events, the same two for Batch, sweep)", len(rules))
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

// TestCustomerEventBus checks who may put events on the bus customers
// forward EC2 events to: nobody at deploy time (the functions serving the
// accounts routes admit each registered AWS account), never an event whose
// source is not aws.ec2 or aws.batch, and only those functions may change
// its policy.
func TestCustomerEventBus(t *testing.T) {
	s := testStack(t)
	buses := s.ofType("AWS::Events::EventBus")
	if len(buses) != 1 {
		t.Fatalf("%d event buses, want 1", len(buses))
	}
	var busID string
	for id := range buses {
		busID = id
	}
	policies := s.ofType("AWS::Events::EventBusPolicy")
	if len(policies) != 1 {
		t.Fatalf("%d bus policies, want 1 (the Deny of sources but aws.ec2 and aws.batch)", len(policies))
	}
	for id, p := range policies {
		if ref(p.Properties["EventBusName"]) != busID {
			t.Errorf("%s: on bus %v, want the customer bus (never the account's default bus)", id, p.Properties["EventBusName"])
		}
		st := p.Properties["Statement"].(map[string]any)
		want := `{"ForAnyValue:StringNotEquals":{"events:source":["aws.ec2","aws.batch"]}}`
		if st["Effect"] != "Deny" || jsonString(st["Principal"]) != `{"AWS":"*"}` || jsonString(st["Condition"]) != want {
			t.Errorf("%s: statement %s, want a Deny to everyone of events not from aws.ec2 or aws.batch", id, jsonString(st))
		}
	}
	for id, r := range s.ofType("AWS::Events::Rule") {
		onBus := ref(r.Properties["EventBusName"]) == busID
		customers := strings.HasPrefix(id, "CustomerEc2Events") || strings.HasPrefix(id, "CustomerBatchEvents")
		if customers != onBus {
			t.Errorf("rule %s on the customer bus: %v", id, onBus)
		}
	}
	// Who may change the bus's policy, by function.
	changers := map[string]bool{}
	for _, p := range s.ofType("AWS::IAM::Policy") {
		for _, st := range asList(p.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
			st := st.(map[string]any)
			acts := asList(st["Action"])
			if !slices.Contains(acts, any("events:PutPermission")) && !slices.Contains(acts, any("events:RemovePermission")) {
				continue
			}
			if jsonString(acts) != `["events:PutPermission","events:RemovePermission"]` || ref(st["Resource"]) != busID {
				t.Errorf("statement %s, want both actions on the customer bus only", jsonString(st))
			}
			for _, role := range asList(p.Properties["Roles"]) {
				changers[ref(role)] = true
			}
		}
	}
	for _, name := range []string{routes.FnAccounts, routes.DefaultFunction, routes.FnRuns, routes.FnEvents} {
		id, fn := s.function(t, name)
		want := name == routes.FnAccounts || name == routes.DefaultFunction
		if got := changers[ref(fn.Properties["Role"])]; got != want {
			t.Errorf("%s (%s) may change the bus policy: %v, want %v", name, id, got, want)
		}
		env := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		if got := ref(env[routes.EnvEventBus]) == busID; got != want {
			b, _ := json.Marshal(env[routes.EnvEventBus])
			t.Errorf("%s: %s = %s, want the bus's name: %v", name, routes.EnvEventBus, b, want)
		}
	}
	if s.outputs["CustomerEventBusArn"] == nil {
		t.Error("no CustomerEventBusArn output")
	}
}
