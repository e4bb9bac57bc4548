package main

import (
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/batchplane/batchplane/shared/routes"
)

// BatchplaneStackProps configure one customer's stack.
type BatchplaneStackProps struct {
	awscdk.StackProps
	// Customer names the deployment (tags; never resource names, so two
	// customers' stacks can share an account).
	Customer string
	// BuildDir holds <function>/bootstrap built by `make build`.
	BuildDir string
}

// NewBatchplaneStack builds the whole service: the table, the secrets key,
// one Lambda per resource, and the HTTP API routing every documented route.
func NewBatchplaneStack(scope constructs.Construct, id string, props *BatchplaneStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	awscdk.Tags_Of(stack).Add(jsii.String("batchplane:customer"), jsii.String(props.Customer), nil)
	buildDir := props.BuildDir
	if buildDir == "" {
		buildDir = filepath.Join("..", ".build")
	}
	key := newSecretsKey(stack)
	table := newTable(stack, key)
	fns := map[string]awslambda.Function{}
	for _, name := range append(routes.Functions(), routes.DefaultFunction) {
		fns[name] = newFunction(stack, name, buildDir, table, key)
	}
	api := newHTTPAPI(stack, fns)
	newRunWorkflow(stack, buildDir, table, key, fns)
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: api.ApiEndpoint()})
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	awscdk.NewCfnOutput(stack, jsii.String("SecretsKeyId"), &awscdk.CfnOutputProps{Value: key.KeyId()})
	return stack
}

// newSecretsKey is the KMS key that seals API secrets and the table.
func newSecretsKey(stack awscdk.Stack) awskms.Key {
	return awskms.NewKey(stack, jsii.String("SecretsKey"), &awskms.KeyProps{
		Description:       jsii.String("batchplane: seals API secrets and encrypts the table"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
}

// newTable is the single table, its indexes and TTL, from routes.Table.
func newTable(stack awscdk.Stack, key awskms.Key) awsdynamodb.Table {
	t := routes.Table
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: str(t.PartitionKey),
		SortKey:      str(t.SortKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection:  jsii.Bool(true),
		Encryption:          awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:       key,
		TimeToLiveAttribute: jsii.String(t.TTLAttribute),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	for _, g := range t.GSIs {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(g.Name),
			PartitionKey:   str(g.PartitionKey),
			SortKey:        str(g.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return table
}

// newFunction is one arm64 provided.al2023 Lambda with least privilege:
// its own log group and role, read/write on the table, the secrets key.
func newFunction(stack awscdk.Stack, name, buildDir string, table awsdynamodb.Table, key awskms.Key) awslambda.Function {
	id := "Fn" + workerID(name)
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("batchplane function " + name),
	})
	logs.GrantWrite(role)
	fn := awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(buildDir, name)), nil),
		MemorySize:   jsii.Number(256),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(10)),
		Tracing:      awslambda.Tracing_ACTIVE,
		Role:         role,
		LogGroup:     logs,
		Environment: &map[string]*string{
			routes.EnvTable:  table.TableName(),
			routes.EnvKMSKey: key.KeyArn(),
			routes.EnvRegion: stack.Region(),
		},
	})
	table.GrantReadWriteData(fn)
	key.GrantEncryptDecrypt(fn)
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Wildcards come only from CDK grants scoped to this stack's resources: the table's own indexes (table/index/*), KMS re-encrypt/data-key action families on the one secrets key, and X-Ray segment writes, which support no resource-level permissions."),
		AppliesTo: &[]interface{}{"Resource::<TableCD117FA1.Arn>/index/*", "Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*", "Resource::*",
			"Resource::arn:aws:iam::*:role/*"},
	}}, jsii.Bool(true))
	return fn
}

// newHTTPAPI routes every deployed route (each casing the seeds use) to
// its function, and $default to the function serving the whole router.
func newHTTPAPI(stack awscdk.Stack, fns map[string]awslambda.Function) awsapigatewayv2.HttpApi {
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("batchplane REST API"),
		DefaultIntegration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("DefaultIntegration"),
			fns[routes.DefaultFunction], nil),
	})
	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		integrations[n] = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Integration-"+n), fns[n], nil)
	}
	for _, r := range routes.Deployed() {
		for _, p := range r.Paths() {
			api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
				Path:        jsii.String(p),
				Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
				Integration: integrations[r.Function],
			})
		}
	}
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	stage := api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",` +
			`"routeKey":"$context.routeKey","status":"$context.status","latency":"$context.responseLatency",` +
			`"integrationError":"$context.integrationErrorMessage"}`),
	})
	stage.SetDefaultRouteSettings(&awsapigatewayv2.CfnStage_RouteSettingsProperty{
		ThrottlingBurstLimit: jsii.Number(200),
		ThrottlingRateLimit:  jsii.Number(100),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(api, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-APIG4"),
		Reason: jsii.String("Every route but GET /health authenticates in the function (ApiKey or AWS SigV4 against keys sealed in the table), as the cmpute.io API documents; an API Gateway authorizer would add a second, divergent auth path."),
	}}, jsii.Bool(true))
	return api
}

// workerID turns a function name (task-createrun) into a construct id part
// (TaskCreaterun).
func workerID(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		if r == '-' {
			up = true
			continue
		}
		if up {
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
