package local

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/workflow"
)

// TestDefinitionTasksMatchWorkers: every Task state of the run state
// machine calls a function of routes.Workers that the local runner
// resolves, and every worker task is called by the definition, so CDK and
// SAM substitute, and the local runner runs, exactly the table's tasks.
func TestDefinitionTasksMatchWorkers(t *testing.T) {
	m, err := LoadMachine(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	resolve := resolver(&workflow.Workflow{})
	called := map[string]bool{}
	for name, s := range m.States {
		if s.Type != "Task" {
			continue
		}
		var p struct{ FunctionName string }
		if err := json.Unmarshal(s.Parameters, &p); err != nil {
			t.Fatalf("state %s: %v", name, err)
		}
		called[p.FunctionName] = true
		if _, ok := resolve(p.FunctionName); !ok {
			t.Errorf("state %s calls %s, which no workflow task serves", name, p.FunctionName)
		}
	}
	for _, w := range routes.Workers {
		if w.Task != "" && !called[w.Task.Placeholder()] {
			t.Errorf("worker %s (task %s) is not called by %s", w.Function, w.Task, StateMachineFile)
		}
	}
	if _, ok := resolve("${NopeFunctionArn}"); ok {
		t.Error("an unknown function resolved")
	}
	if _, err := os.Stat(filepath.Join("..", "..", StateMachineFile)); err != nil {
		t.Fatal(err)
	}
}
