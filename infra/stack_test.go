package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/batchplane/batchplane/shared/routes"
)

var (
	synthOnce sync.Once
	stack     awscdk.Stack
	tmpl      assertions.Template
	tmplJSON  map[string]any
)

// synth synthesizes the stack once per test binary, with cdk-nag applied.
func synth(t *testing.T) {
	t.Helper()
	synthOnce.Do(func() {
		for _, fn := range append(routes.Functions(), routes.DefaultFunction) {
			if _, err := os.Stat(filepath.Join("..", ".build", fn, "bootstrap")); err != nil {
				t.Fatalf("missing ../.build/%s/bootstrap: run `make build` first", fn)
			}
		}
		app := awscdk.NewApp(nil)
		stack = NewBatchplaneStack(app, "Batchplane-test", &BatchplaneStackProps{
			StackProps: awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("us-east-1")}},
			Customer:   "test",
		})
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
		tmpl = assertions.Template_FromStack(stack, nil)
		b, _ := json.Marshal(tmpl.ToJSON())
		_ = json.Unmarshal(b, &tmplJSON)
	})
	if tmpl == nil {
		t.Fatal("synthesis failed")
	}
}

func resources(t *testing.T, typ string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range tmplJSON["Resources"].(map[string]any) {
		m := r.(map[string]any)
		if m["Type"] == typ {
			props, _ := m["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

func TestTable(t *testing.T) {
	synth(t)
	tmpl.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1))
	tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"DeletionPolicy": "Retain",
		"Properties": map[string]any{
			"BillingMode":                      "PAY_PER_REQUEST",
			"DeletionProtectionEnabled":        true,
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": routes.Table.TTLAttribute, "Enabled": true},
			"KeySchema": []any{
				map[string]any{"AttributeName": "PK", "KeyType": "HASH"},
				map[string]any{"AttributeName": "SK", "KeyType": "RANGE"},
			},
			"SSESpecification": map[string]any{"SSEEnabled": true, "SSEType": "KMS"},
		},
	})
	for _, g := range routes.Table.GSIs {
		tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"GlobalSecondaryIndexes": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"IndexName":  g.Name,
				"Projection": map[string]any{"ProjectionType": "ALL"},
			})}),
		})
	}
	tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
}

func TestFunctions(t *testing.T) {
	synth(t)
	fns := resources(t, "AWS::Lambda::Function")
	if want := len(routes.Functions()) + 1 + len(routes.Workers); len(fns) != want {
		t.Fatalf("%d functions, want %d", len(fns), want)
	}
	for id, p := range fns {
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || p["MemorySize"] != float64(256) {
			t.Errorf("%s: runtime %v handler %v memory %v", id, p["Runtime"], p["Handler"], p["MemorySize"])
		}
		if a, _ := p["Architectures"].([]any); len(a) != 1 || a[0] != "arm64" {
			t.Errorf("%s: architectures %v", id, p["Architectures"])
		}
		if _, named := p["FunctionName"]; named {
			t.Errorf("%s: fixed function name (a second customer's stack would clash)", id)
		}
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		for _, k := range []string{routes.EnvTable, routes.EnvKMSKey, routes.EnvRegion} {
			if env[k] == nil {
				t.Errorf("%s: no %s", id, k)
			}
		}
		if p["TracingConfig"].(map[string]any)["Mode"] != "Active" {
			t.Errorf("%s: tracing off", id)
		}
	}
}

func TestLeastPrivilege(t *testing.T) {
	synth(t)
	b, _ := json.Marshal(tmplJSON)
	if strings.Contains(string(b), "FullAccess") {
		t.Error("a managed *FullAccess policy is attached")
	}
	for id, p := range resources(t, "AWS::IAM::Policy") {
		doc := p["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			s := st.(map[string]any)
			acts, ok := s["Action"].([]any)
			if !ok {
				acts = []any{s["Action"]}
			}
			for _, a := range acts {
				if a == "*" || strings.HasSuffix(a.(string), ":*") {
					t.Errorf("%s: action %v", id, a)
				}
			}
		}
	}
	for id, r := range resources(t, "AWS::IAM::Role") {
		if r["ManagedPolicyArns"] != nil {
			t.Errorf("%s: managed policies %v", id, r["ManagedPolicyArns"])
		}
	}
}

func TestAPIAccessLogsAndThrottling(t *testing.T) {
	synth(t)
	tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
		"AccessLogSettings":    assertions.Match_ObjectLike(&map[string]any{"Format": assertions.Match_StringLikeRegexp(jsii.String("requestId"))}),
		"DefaultRouteSettings": map[string]any{"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100},
	})
}

func TestCdkNagAwsSolutions(t *testing.T) {
	synth(t)
	a := assertions.Annotations_FromStack(stack)
	errs := a.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	warns := a.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, m := range append(*errs, *warns...) {
		t.Errorf("cdk-nag: %s: %v", *m.Id, m.Entry.Data)
	}
}

// routeKeys expands the route table as API Gateway sees it.
func tableRouteKeys() []string {
	keys := []string{"$default"}
	for _, r := range routes.Deployed() {
		for _, p := range r.Paths() {
			keys = append(keys, r.Method+" "+p)
		}
	}
	sort.Strings(keys)
	return keys
}

func diff(a, b []string) (onlyA, onlyB []string) {
	in := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, v := range s {
			m[v] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	for _, v := range a {
		if !mb[v] {
			onlyA = append(onlyA, v)
		}
	}
	for _, v := range b {
		if !ma[v] {
			onlyB = append(onlyB, v)
		}
	}
	return onlyA, onlyB
}

func TestRunWorkflow(t *testing.T) {
	synth(t)
	sms := resources(t, "AWS::StepFunctions::StateMachine")
	if len(sms) != 1 {
		t.Fatalf("%d state machines", len(sms))
	}
	for _, p := range sms {
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
	rules := resources(t, "AWS::Events::Rule")
	if len(rules) != 2 {
		t.Fatalf("%d rules, want 2 (EC2 events, sweep)", len(rules))
	}
	for id, r := range rules {
		for _, tg := range r["Targets"].([]any) {
			m := tg.(map[string]any)
			if m["DeadLetterConfig"] == nil || m["RetryPolicy"] == nil {
				t.Errorf("rule %s target without retry policy or dead-letter queue", id)
			}
		}
	}
}
