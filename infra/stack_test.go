package main

// Annotations' FindError and FindWarning return cxapi.SynthesisMessage,
// whose fields aws-cdk-go marks deprecated (moved to cloud-assembly-api)
// with no Go replacement yet.
//lint:file-ignore SA1019 cdk-nag findings are read through cxapi.SynthesisMessage

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/batchplane/batchplane/infra/internal/spec"
	"github.com/batchplane/batchplane/shared/routes"
)

func TestCustomerNames(t *testing.T) {
	tests := []struct {
		name     string
		customer string
		want     bool
	}{
		{"simple", "acme", true},
		{"digits and dashes", "acme-2", true},
		{"one character", "a", true},
		{"empty", "", false},
		{"upper case", "Acme", false},
		{"underscore", "acme_co", false},
		{"leading dash", "-acme", false},
		{"trailing dash", "acme-", false},
		{"too long", strings.Repeat("a", 41), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := customerPattern.MatchString(tt.customer); got != tt.want {
				t.Errorf("customerPattern.MatchString(%q) = %v, want %v", tt.customer, got, tt.want)
			}
		})
	}
}

func TestResources(t *testing.T) {
	s := testStack(t)
	keySchema := func(pk, sk string) []any {
		return []any{
			map[string]any{"AttributeName": pk, "KeyType": "HASH"},
			map[string]any{"AttributeName": sk, "KeyType": "RANGE"},
		}
	}
	tbl := routes.Table
	attrs := []any{
		map[string]any{"AttributeName": tbl.PartitionKey, "AttributeType": "S"},
		map[string]any{"AttributeName": tbl.SortKey, "AttributeType": "S"},
	}
	var gsis []any
	for _, g := range tbl.GSIs {
		attrs = append(attrs,
			map[string]any{"AttributeName": g.PartitionKey, "AttributeType": "S"},
			map[string]any{"AttributeName": g.SortKey, "AttributeType": "S"})
		gsis = append(gsis, map[string]any{
			"IndexName":  g.Name,
			"KeySchema":  keySchema(g.PartitionKey, g.SortKey),
			"Projection": map[string]any{"ProjectionType": "ALL"},
		})
	}
	tests := []struct {
		name  string
		typ   string
		count int
		want  map[string]any // matched objectLike against the whole resource
	}{
		{"table", "AWS::DynamoDB::Table", 1, map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"BillingMode":                      "PAY_PER_REQUEST",
				"DeletionProtectionEnabled":        true,
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": tbl.TTLAttribute, "Enabled": true},
				"KeySchema":                        keySchema(tbl.PartitionKey, tbl.SortKey),
				"AttributeDefinitions":             assertions.Match_ArrayWith(&attrs),
				"GlobalSecondaryIndexes":           gsis,
				"SSESpecification": map[string]any{
					"SSEEnabled":     true,
					"SSEType":        "KMS",
					"KMSMasterKeyId": assertions.Match_AnyValue(),
				},
			},
		}},
		{"secrets and logs keys", "AWS::KMS::Key", 2, map[string]any{
			"DeletionPolicy": "Retain",
			"Properties":     map[string]any{"EnableKeyRotation": true},
		}},
		{"HTTP API", "AWS::ApiGatewayV2::Api", 1, map[string]any{
			"Properties": map[string]any{"ProtocolType": "HTTP"},
		}},
		{"default stage: throttled, access-logged", "AWS::ApiGatewayV2::Stage", 1, map[string]any{
			"Properties": map[string]any{
				"StageName":  "$default",
				"AutoDeploy": true,
				"DefaultRouteSettings": map[string]any{
					"ThrottlingRateLimit":  spec.RateLimit,
					"ThrottlingBurstLimit": spec.BurstLimit,
				},
				"AccessLogSettings": map[string]any{
					"DestinationArn": assertions.Match_AnyValue(),
					"Format":         spec.AccessLogFormat,
				},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.template.ResourceCountIs(jsii.String(tt.typ), jsii.Number(tt.count))
			s.template.HasResource(jsii.String(tt.typ), tt.want)
		})
	}
	t.Run("table encrypted with the secrets key", func(t *testing.T) {
		for _, table := range s.ofType("AWS::DynamoDB::Table") {
			sse := table.Properties["SSESpecification"].(map[string]any)
			if id := ref(sse["KMSMasterKeyId"]); s.resources[id].Type != "AWS::KMS::Key" {
				t.Errorf("KMSMasterKeyId = %v, want the secrets key", sse["KMSMasterKeyId"])
			}
		}
	})
	t.Run("log groups: retention, encryption", func(t *testing.T) {
		for id, lg := range s.ofType("AWS::Logs::LogGroup") {
			want := spec.LogRetentionDays
			if strings.Contains(id, "AccessLogs") {
				want = spec.AccessLogRetentionDays
			} else if strings.Contains(id, "StateMachine") {
				want = 365 // the run workflow's own choice
			}
			if got := lg.Properties["RetentionInDays"]; got != float64(want) {
				t.Errorf("%s: RetentionInDays %v, want %d", id, got, want)
			}
			if key := ref(lg.Properties["KmsKeyId"]); !strings.HasPrefix(key, logsKeyID) {
				t.Errorf("%s: KmsKeyId %v, want the logs key", id, lg.Properties["KmsKeyId"])
			}
		}
	})
	t.Run("key policies", func(t *testing.T) {
		for id, k := range s.ofType("AWS::KMS::Key") {
			doc := jsonString(k.Properties["KeyPolicy"])
			// Only AWS services create grants (Control Tower's CT.KMS.PR.3).
			if !strings.Contains(doc, `{"Action":"kms:CreateGrant","Condition":{"BoolIfExists":{"aws:PrincipalIsAWSService":"false","kms:GrantIsForAWSResource":"false"}},"Effect":"Deny","Principal":{"AWS":"*"},"Resource":"*"}`) {
				t.Errorf("%s: no Deny of kms:CreateGrant but for AWS services in %s", id, doc)
			}
			// CloudWatch Logs may use the logs key only, for this account's log groups.
			logs := strings.Contains(doc, `"Service":"logs.us-east-1.amazonaws.com"`)
			if logs != strings.HasPrefix(id, logsKeyID) {
				t.Errorf("%s: CloudWatch Logs in its policy = %v", id, logs)
			}
			if logs && !strings.Contains(doc, `"kms:EncryptionContext:aws:logs:arn"`) {
				t.Errorf("%s: CloudWatch Logs not held to this account's log groups: %s", id, doc)
			}
		}
	})
	t.Run("API URL output", func(t *testing.T) {
		if s.outputs["ApiUrl"] == nil {
			t.Errorf("no ApiUrl output; outputs: %v", s.outputs)
		}
	})
}

func TestFunctions(t *testing.T) {
	s := testStack(t)
	if got, want := len(s.ofType("AWS::Lambda::Function")), len(spec.DeployedFunctions()); got != want {
		t.Errorf("%d Lambda functions, want %d (%v)", got, want, spec.DeployedFunctions())
	}
	for _, name := range spec.DeployedFunctions() {
		t.Run(name, func(t *testing.T) {
			id, fn := s.function(t, name)
			p := fn.Properties
			for prop, want := range map[string]any{
				"Runtime":       spec.Runtime,
				"Handler":       spec.Handler,
				"Architectures": []any{"arm64"},
				"MemorySize":    spec.MemoryMB,
				"Timeout":       spec.Timeout(name),
				"TracingConfig": map[string]any{"Mode": "Active"},
			} {
				if got := jsonString(p[prop]); got != jsonString(want) {
					t.Errorf("%s: %s = %s, want %s", id, prop, got, jsonString(want))
				}
			}
			if _, named := p["FunctionName"]; named {
				t.Errorf("%s: fixed FunctionName (a second customer's stack would clash)", id)
			}
			if s3 := p["Code"].(map[string]any)["S3Key"]; !strings.HasSuffix(s3.(string), ".zip") {
				t.Errorf("%s: code %v is not a zip asset", id, p["Code"])
			}
			env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			if id := ref(env[routes.EnvTable]); s.resources[id].Type != "AWS::DynamoDB::Table" {
				t.Errorf("%s = %v, want the table", routes.EnvTable, env[routes.EnvTable])
			}
			if id := ref(env[routes.EnvKMSKey]); s.resources[id].Type != "AWS::KMS::Key" {
				t.Errorf("%s = %v, want the secrets key", routes.EnvKMSKey, env[routes.EnvKMSKey])
			}
			if got := env[routes.EnvRegion]; got != "us-east-1" {
				t.Errorf("%s = %v, want us-east-1", routes.EnvRegion, got)
			}
			if lc, _ := p["LoggingConfig"].(map[string]any); s.resources[ref(lc["LogGroup"])].Type != "AWS::Logs::LogGroup" {
				t.Errorf("%s: LoggingConfig %v, want its own log group", id, p["LoggingConfig"])
			}
		})
	}
}

// TestLeastPrivilege checks the IAM the stack creates: roles without
// managed policies, no action wildcards beyond what grants produce, data
// access only to this stack's table and key, no fixed physical names.
func TestLeastPrivilege(t *testing.T) {
	s := testStack(t)
	for id, r := range s.ofType("AWS::IAM::Role") {
		if r.Properties["ManagedPolicyArns"] != nil {
			t.Errorf("%s: managed policies %v", id, r.Properties["ManagedPolicyArns"])
		}
	}
	if doc := jsonString(s.resources); strings.Contains(doc, "FullAccess") {
		t.Error("the template names a *FullAccess policy")
	}
	for id, p := range s.ofType("AWS::IAM::Policy") {
		for _, st := range asList(p.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
			st := st.(map[string]any)
			for _, a := range asList(st["Action"]) {
				a := a.(string)
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s: action %q", id, a)
				}
				service := a[:strings.Index(a, ":")]
				if service != "dynamodb" && service != "kms" {
					continue
				}
				for _, res := range asList(st["Resource"]) {
					if res == "*" {
						t.Errorf("%s: %s on *", id, a)
					}
					if target := s.resources[ref(res)].Type; target != "" && target != "AWS::DynamoDB::Table" && target != "AWS::KMS::Key" {
						t.Errorf("%s: %s on %s", id, a, target)
					}
				}
			}
		}
	}
	// Physical names that must be unique in an account and region (or on
	// the account's default event bus).
	named := map[string]string{
		"AWS::DynamoDB::Table":             "TableName",
		"AWS::Lambda::Function":            "FunctionName",
		"AWS::IAM::Role":                   "RoleName",
		"AWS::Logs::LogGroup":              "LogGroupName",
		"AWS::SQS::Queue":                  "QueueName",
		"AWS::StepFunctions::StateMachine": "StateMachineName",
		"AWS::Events::Rule":                "Name",
		"AWS::KMS::Alias":                  "AliasName",
		"AWS::Events::EventBusPolicy":      "StatementId", // CloudFormation's physical id: unique in the account
		"AWS::Events::EventBus":            "Name",
	}
	// A name is fixed unless it is generated or carries the stack's name.
	for id, r := range s.resources {
		prop, ok := named[r.Type]
		if !ok || r.Properties[prop] == nil {
			continue
		}
		if name := jsonString(r.Properties[prop]); !strings.Contains(name, *s.stack.StackName()) && !strings.Contains(name, "AWS::StackName") {
			t.Errorf("%s: fixed %s %v (a second customer's stack in the account would clash)", id, prop, r.Properties[prop])
		}
	}
}

// TestRoutes checks every route key of the table, each casing, and
// $default, and that each is integrated with its own function.
func TestRoutes(t *testing.T) {
	s := testStack(t)
	want := map[string]string{spec.DefaultRouteKey: routes.DefaultFunction}
	for _, r := range routes.Deployed() {
		for _, p := range r.Paths() {
			want[spec.RouteKey(r.Method, p)] = r.Function
		}
	}
	got := map[string]resource{}
	for _, r := range s.ofType("AWS::ApiGatewayV2::Route") {
		got[r.Properties["RouteKey"].(string)] = r
	}
	for key, fn := range want {
		t.Run(key, func(t *testing.T) {
			r, ok := got[key]
			if !ok {
				t.Fatal("no route")
			}
			if r.Properties["AuthorizationType"] != nil && r.Properties["AuthorizationType"] != "NONE" {
				t.Errorf("authorization %v: auth is the function's", r.Properties["AuthorizationType"])
			}
			// Target is {"Fn::Join": ["", ["integrations/", {"Ref": integration}]]}.
			parts := r.Properties["Target"].(map[string]any)["Fn::Join"].([]any)[1].([]any)
			integ := s.resources[ref(parts[1])]
			if integ.Type != "AWS::ApiGatewayV2::Integration" {
				t.Fatalf("target %v is not an integration", r.Properties["Target"])
			}
			if got := integ.Properties["PayloadFormatVersion"]; got != "2.0" {
				t.Errorf("payload format %v, want 2.0", got)
			}
			fnID, _ := s.function(t, fn)
			if got := ref(integ.Properties["IntegrationUri"]); got != fnID {
				t.Errorf("integrated with %s, want %s (%s)", got, fnID, fn)
			}
		})
	}
	if len(got) != len(want) {
		t.Errorf("%d routes, want %d", len(got), len(want))
	}
}

// TestCdkNag fails on any AwsSolutions finding left unsuppressed.
func TestCdkNag(t *testing.T) {
	s := testStack(t)
	a := assertions.Annotations_FromStack(s.stack)
	rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, m := range *a.FindError(jsii.String("*"), rule) {
		t.Errorf("cdk-nag error at %s: %v", *m.Id, m.Entry.Data)
	}
	for _, m := range *a.FindWarning(jsii.String("*"), rule) {
		t.Errorf("cdk-nag warning at %s: %v", *m.Id, m.Entry.Data)
	}
}
