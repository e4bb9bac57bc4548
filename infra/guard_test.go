package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// cfnguardPackage is where tools.sh installs @cdklabs/cdk-validator-cfnguard.
const cfnguardPackage = "../.tools/cfnguard/node_modules/@cdklabs/cdk-validator-cfnguard"

// TestControlTowerRules runs AWS Control Tower's proactive controls (every
// rule the package bundles) on the synthesized stack and fails on any
// finding guardSuppressions does not cover, or on a suppression that
// covers nothing.
func TestControlTowerRules(t *testing.T) {
	s := testStack(t)
	guard := filepath.Join(cfnguardPackage, "bin", map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS],
		map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH], "cfn-guard")
	rules := filepath.Join(cfnguardPackage, "rules", "control-tower", "cfn-guard")
	if _, err := os.Stat(guard); err != nil {
		t.Fatalf("no cfn-guard for %s/%s (%v): run bash infra/tools.sh", runtime.GOOS, runtime.GOARCH, err)
	}
	template := filepath.Join(t.TempDir(), "template.json")
	b, err := json.Marshal(s.template.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(template, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(guard, "validate", "--rules", rules, "--data", template,
		"--output-format", "json", "--show-summary", "none", "--structured").Output()
	// cfn-guard exits 19 when a rule fails, 0 when all pass.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 19) {
		t.Fatalf("cfn-guard: %v\n%s", err, stderr(err))
	}
	types := map[string]string{}
	for id, r := range s.resources {
		types[id] = r.Type
	}
	found, err := guardFindings(out, types)
	if err != nil {
		t.Fatal(err)
	}
	left, unused := unsuppressed(found, guardSuppressions)
	for _, f := range left {
		t.Errorf("Control Tower proactive control not met: %s; fix it or add a guardSuppression with its reason", f)
	}
	for _, s := range unused {
		t.Errorf("guardSuppression %s on %s matches no finding: remove it", s.Control, s.Type)
	}
}

// TestGuardFindings checks the reading of cfn-guard's structured output
// and the suppressions on a small recorded report.
func TestGuardFindings(t *testing.T) {
	out := []byte(`[{"name":"t.json","not_compliant":[
	  {"Rule":{"name":"cloudwatch_log_group_encrypted_check","checks":[{"Rule":{"name":"check","messages":{
	    "custom_message":"\n [CT.CLOUDWATCH.PR.3]: Require a log group to be encrypted\n [FIX]: set KmsKeyId"},
	    "checks":[{"Clause":{"Unary":{"check":{"UnResolved":{"value":{"traversed_to":{"path":"/Resources/LogsA/Properties"}}}}}}},
	              {"Clause":{"Unary":{"check":{"UnResolved":{"value":{"traversed_to":{"path":"/Resources/LogsB/Properties[L:3,C:4]"}}}}}}}]}}]}},
	  {"Rule":{"name":"sqs_dlq_check","checks":[{"Rule":{"messages":{"custom_message":"[CT.SQS.PR.1]: dlq"},
	    "checks":[{"Clause":{"Binary":{"check":{"InResolved":{"from":{"path":"/Resources/Queue/Properties"}}}}}}]}}]}}
	]}]`)
	types := map[string]string{"LogsA": "AWS::Logs::LogGroup", "LogsB": "AWS::Logs::LogGroup", "Queue": "AWS::SQS::Queue"}
	found, err := guardFindings(out, types)
	if err != nil {
		t.Fatal(err)
	}
	want := []guardFinding{
		{"CT.CLOUDWATCH.PR.3", "cloudwatch_log_group_encrypted_check", "LogsA", "AWS::Logs::LogGroup"},
		{"CT.CLOUDWATCH.PR.3", "cloudwatch_log_group_encrypted_check", "LogsB", "AWS::Logs::LogGroup"},
		{"CT.SQS.PR.1", "sqs_dlq_check", "Queue", "AWS::SQS::Queue"},
	}
	if jsonString(found) != jsonString(want) {
		t.Fatalf("findings\n%v\nwant\n%v", found, want)
	}
	tests := []struct {
		name       string
		sups       []guardSuppression
		left, free int
	}{
		{"none", nil, 3, 0},
		{"queue waived", []guardSuppression{{"CT.SQS.PR.1", "AWS::SQS::Queue", "dlq"}}, 2, 0},
		{"wrong type covers nothing", []guardSuppression{{"CT.SQS.PR.1", "AWS::Logs::LogGroup", "x"}}, 3, 1},
		{"all waived", []guardSuppression{{"CT.SQS.PR.1", "AWS::SQS::Queue", "dlq"},
			{"CT.CLOUDWATCH.PR.3", "AWS::Logs::LogGroup", "x"}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			left, unused := unsuppressed(found, tt.sups)
			if len(left) != tt.left || len(unused) != tt.free {
				t.Errorf("unsuppressed = %v, unused %v; want %d left, %d unused", left, unused, tt.left, tt.free)
			}
		})
	}
	if _, err := guardFindings([]byte("not json"), types); err == nil {
		t.Error("guardFindings(not json) succeeded")
	}
}

// stderr is what a failed command wrote to standard error.
func stderr(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(exit.Stderr)
	}
	return ""
}
