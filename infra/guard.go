package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Control Tower's proactive controls run on the synthesized stack as the
// cfn-guard rules cdklabs publishes (@cdklabs/cdk-validator-cfnguard,
// installed by tools.sh; TestControlTowerRules). The infra app is Go, so it
// cannot load that package's TypeScript validation plugin: the test runs
// the package's own cfn-guard binary on its rules and checks each finding
// against guardSuppressions, the one place a control is waived, as nag.go
// is for cdk-nag.

// guardSuppression waives one control on every resource of one type.
type guardSuppression struct {
	Control string // CT.<SERVICE>.PR.<n>, as the rule's message names it
	Type    string // the CloudFormation resource type it is waived on
	Reason  string
}

// guardSuppressions are the controls the stack does not meet, each with
// why. A suppression that no longer matches a finding fails the test too,
// so the list stays what the stack needs.
var guardSuppressions = []guardSuppression{
	{"CT.APIGATEWAY.PR.5", "AWS::ApiGatewayV2::Route",
		"Every route but GET /health authenticates in the function (the ApiKey header or a SigV4 signature checked " +
			"against secrets sealed in the table, the code path `make run` serves too); an API Gateway IAM, JWT or " +
			"Lambda authorizer cannot verify these keys (the same reason as cdk-nag's AwsSolutions-APIG4 in nag.go)."},
	{"CT.LAMBDA.PR.2", "AWS::Lambda::Permission",
		"The permissions API Gateway's integrations add name the service principal with SourceArn set to this " +
			"API's execute-api ARN; the rule accepts only a literal or a plain Ref/GetAtt there, and the ARN is an " +
			"Fn::Join of the API's id. The permissions that pass a plain GetAtt (EventBridge's) are not waived: the " +
			"waiver is per type, and the rule still runs on them."},
	{"CT.LAMBDA.PR.3", "AWS::Lambda::Function",
		"The functions reach only AWS APIs (DynamoDB, KMS, STS and, through customers' roles, EC2, Auto Scaling, " +
			"CloudWatch, Elastic Load Balancing and Step Functions) and no resource in a VPC; attaching them to one " +
			"would add NAT or an interface endpoint per service, and cold-start cost, to protect no private resource."},
	{"CT.SQS.PR.1", "AWS::SQS::Queue",
		"The one queue, EventsDeadLetters, is itself the dead-letter queue of the EventBridge targets (as " +
			"AwsSolutions-SQS3 in workers.go)."},
}

// guardFinding is one control a resource does not meet.
type guardFinding struct {
	Control, Rule, Resource, Type string
}

func (f guardFinding) String() string {
	return fmt.Sprintf("%s (%s) on %s (%s)", f.Control, f.Rule, f.Resource, f.Type)
}

// controlPattern finds the control id in a rule's custom message.
var controlPattern = regexp.MustCompile(`\[(CT\.[A-Z0-9]+\.PR\.\d+)\]`)

// resourcePath finds the logical id in a path into the template.
var resourcePath = regexp.MustCompile(`^/Resources/([^/\[]+)`)

// guardFindings reads `cfn-guard validate --output-format json
// --structured`: per template, the rules not met, each a tree of checks
// whose paths point into the template. A finding is a control and a
// resource some failed check of the rule points into; types maps logical
// ids to their resource type.
func guardFindings(out []byte, types map[string]string) ([]guardFinding, error) {
	var files []struct {
		NotCompliant []struct {
			Rule json.RawMessage `json:"Rule"`
		} `json:"not_compliant"`
	}
	if err := json.Unmarshal(out, &files); err != nil {
		return nil, fmt.Errorf("cfn-guard output: %w", err)
	}
	seen := map[guardFinding]bool{}
	var found []guardFinding
	for _, f := range files {
		for _, nc := range f.NotCompliant {
			var rule any
			if err := json.Unmarshal(nc.Rule, &rule); err != nil {
				return nil, fmt.Errorf("cfn-guard rule: %w", err)
			}
			name, _ := rule.(map[string]any)["name"].(string)
			control, resources := name, map[string]bool{}
			walkGuard(rule, func(key, value string) {
				if m := controlPattern.FindStringSubmatch(value); key == "custom_message" && m != nil {
					control = m[1]
				}
				if m := resourcePath.FindStringSubmatch(value); key == "path" && m != nil {
					resources[m[1]] = true
				}
			})
			if len(resources) == 0 {
				resources["(template)"] = true
			}
			for r := range resources {
				g := guardFinding{Control: control, Rule: name, Resource: r, Type: types[r]}
				if !seen[g] {
					seen[g] = true
					found = append(found, g)
				}
			}
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
	return found, nil
}

// walkGuard calls fn on every string value in v with its key.
func walkGuard(v any, fn func(key, value string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if s, ok := c.(string); ok {
				fn(k, s)
			} else {
				walkGuard(c, fn)
			}
		}
	case []any:
		for _, c := range v {
			walkGuard(c, fn)
		}
	}
}

// unsuppressed returns the findings no suppression covers and the
// suppressions that cover no finding.
func unsuppressed(found []guardFinding, sups []guardSuppression) (left []guardFinding, unused []guardSuppression) {
	used := make([]bool, len(sups))
	for _, f := range found {
		covered := false
		for i, s := range sups {
			if strings.EqualFold(s.Control, f.Control) && s.Type == f.Type {
				covered, used[i] = true, true
			}
		}
		if !covered {
			left = append(left, f)
		}
	}
	for i, s := range sups {
		if !used[i] {
			unused = append(unused, s)
		}
	}
	return left, unused
}
