package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/batchplane/batchplane/infra/internal/spec"
)

// synthesized is the stack every test reads: jsii runs the CDK in node, so
// the stack is built and synthesized once per test binary.
type synthesized struct {
	stack    awscdk.Stack
	template assertions.Template
	// resources are the template's resources by logical id.
	resources map[string]resource
	outputs   map[string]any
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

var (
	synthOnce   sync.Once
	synthResult *synthesized
	synthErr    error
)

// TestMain stops the jsii runtime (a node process) after the tests, which
// also removes its temporary directory.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// testStack synthesizes Batchplane-test, with cdk-nag applied, from the
// function bootstraps in BP_BUILD_DIR (default ../.build); missing ones are
// built first with the Makefile's command.
func testStack(tb testing.TB) *synthesized {
	tb.Helper()
	synthOnce.Do(func() { synthResult, synthErr = synth() })
	if synthErr != nil {
		tb.Fatal(synthErr)
	}
	return synthResult
}

func synth() (s *synthesized, err error) {
	buildDir := os.Getenv("BP_BUILD_DIR")
	if buildDir == "" {
		buildDir = DefaultBuildDir
	}
	if err := ensureBootstraps(buildDir, spec.DeployedFunctions()); err != nil {
		return nil, err
	}
	defer func() { // jsii reports CDK errors as panics
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesize: %v", r)
		}
	}()
	// The feature flags in cdk.json, as the CLI passes them to the app.
	var cdkJSON struct {
		Context map[string]any `json:"context"`
	}
	b, err := os.ReadFile("cdk.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &cdkJSON); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &cdkJSON.Context})
	stack := NewBatchplaneStack(app, StackName("test"), &BatchplaneStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("us-east-1")}},
		Customer:   "test",
		BuildDir:   buildDir,
	})
	AddNagChecks(app)
	s = &synthesized{stack: stack, template: assertions.Template_FromStack(stack, nil)}
	b, err = json.Marshal(s.template.ToJSON())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Resources map[string]resource `json:"Resources"`
		Outputs   map[string]any      `json:"Outputs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	s.resources, s.outputs = doc.Resources, doc.Outputs
	return s, nil
}

// ensureBootstraps builds <buildDir>/<fn>/bootstrap for each function that
// lacks one, exactly as `make build` does, from the repository root.
func ensureBootstraps(buildDir string, fns []string) error {
	abs, err := filepath.Abs(buildDir)
	if err != nil {
		return err
	}
	for _, fn := range fns {
		out := filepath.Join(abs, fn, "bootstrap")
		if _, err := os.Stat(out); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "functions", fn)); err != nil {
			return fmt.Errorf("function %s: no ../functions/%s to build %s from", fn, fn, out)
		}
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/"+fn)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", fn, err, b)
		}
	}
	return nil
}

// ofType returns the resources of one CloudFormation type by logical id.
func (s *synthesized) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range s.resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// function finds the Lambda function deployed for a functions/<name>.
func (s *synthesized) function(tb testing.TB, name string) (string, resource) {
	tb.Helper()
	for id, r := range s.ofType("AWS::Lambda::Function") {
		if r.Properties["Description"] == "batchplane "+name {
			return id, r
		}
	}
	tb.Fatalf("no Lambda function for %s", name)
	return "", resource{}
}

// ref returns the logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]}
// points at, or "".
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if id, ok := m["Ref"].(string); ok {
		return id
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		id, _ := ga[0].(string)
		return id
	}
	return ""
}

// diff returns the sorted keys of a not in b and of b not in a.
func diff(a, b []string) (onlyA, onlyB []string) {
	set := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, v := range s {
			m[v] = true
		}
		return m
	}
	ma, mb := set(a), set(b)
	for v := range ma {
		if !mb[v] {
			onlyA = append(onlyA, v)
		}
	}
	for v := range mb {
		if !ma[v] {
			onlyB = append(onlyB, v)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return onlyA, onlyB
}

// duplicates returns the values that occur more than once in s.
func duplicates(s []string) []string {
	n := map[string]int{}
	var out []string
	for _, v := range s {
		if n[v]++; n[v] == 2 {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
