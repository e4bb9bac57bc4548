package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddNagChecks applies cdk-nag's AwsSolutions pack to everything under
// scope (the app): every finding becomes an error or warning annotation
// unless a suppression below, each with its reason, covers it.
func AddNagChecks(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// suppress silences one AwsSolutions rule on c and its children. appliesTo
// narrows an IAM rule to the named findings (e.g. "Resource::*"), so any
// other wildcard still fails the checks.
func suppress(c constructs.IConstruct, rule, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		a := make([]interface{}, len(appliesTo))
		for i, v := range appliesTo {
			a[i] = v
		}
		s.AppliesTo = &a
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}

// suppressFunctionGrants covers the wildcards in a function role's policy,
// each produced by a CDK grant on this stack's own resources.
func suppressFunctionGrants(role awsiam.Role, table awsdynamodb.Table) {
	suppress(role, "AwsSolutions-IAM5",
		"table.GrantReadWriteData covers the table's own global secondary indexes (<table ARN>/index/*), which the "+
			"store queries; the KMS grant's kms:ReEncrypt* and kms:GenerateDataKey* are scoped to this stack's one "+
			"secrets key; X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing) support no resource-level "+
			"permissions, so their resource is *.",
		"Resource::<"+logicalID(table)+".Arn>/index/*",
		"Action::kms:ReEncrypt*",
		"Action::kms:GenerateDataKey*",
		"Resource::*",
	)
}

// suppressAPIAuthorization covers the HTTP API's routes, which carry no API
// Gateway authorizer on purpose.
func suppressAPIAuthorization(api awsapigatewayv2.HttpApi) {
	suppress(api, "AwsSolutions-APIG4",
		"Every route but GET /health authenticates in the function, with the documented ApiKey header or an AWS "+
			"SigV4 signature checked against API secrets sealed in the table (the code path `make run` serves too); "+
			"an API Gateway IAM, JWT or Lambda authorizer cannot verify these keys and would add a second, divergent "+
			"auth path.")
}

// suppressAssumeCustomerRoles covers sts:AssumeRole on customers' roles.
func suppressAssumeCustomerRoles(role awsiam.IRole) {
	suppress(role, "AwsSolutions-IAM5",
		"batchplane acts in a customer's AWS account only by assuming the role that customer registered; those "+
			"accounts are data (the accounts API), unknown at deploy time, so the resource is arn:aws:iam::*:role/*, "+
			"narrowed by the sts:ExternalId condition and by each role's own trust policy.",
		"Resource::arn:aws:iam::*:role/*")
}

// suppressTaskToken covers states:SendTaskSuccess, which the functions
// that resume a waiting run need.
func suppressTaskToken(role awsiam.IRole) {
	suppress(role, "AwsSolutions-IAM5",
		"states:SendTaskSuccess supports no resource-level permissions (the task token names the execution), so "+
			"its resource is *.",
		"Resource::*")
}

// logicalID is the CloudFormation logical id of c's default child, as
// cdk-nag names it in findings.
func logicalID(c constructs.IConstruct) string {
	return *awscdk.Stack_Of(c).GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}
