package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// BatchplaneStackProps configure one customer's stack.
type BatchplaneStackProps struct {
	awscdk.StackProps
	// Customer names the deployment. It only tags resources: no resource
	// has a fixed physical name, so two customers' stacks can share an
	// account and region.
	Customer string
	// BuildDir holds <function>/bootstrap for every function, as built by
	// `make build`; DefaultBuildDir when empty.
	BuildDir string
}

// NewBatchplaneStack builds one customer's batchplane: the secrets key, the
// single table, one Lambda per resource of shared/routes plus the $default
// function, the HTTP API routing every deployed route, and the run
// workflow (state machine, worker functions, EventBridge rules).
func NewBatchplaneStack(scope constructs.Construct, id string, props *BatchplaneStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	awscdk.Tags_Of(stack).Add(jsii.String("batchplane:customer"), jsii.String(props.Customer), nil)
	buildDir := props.BuildDir
	if buildDir == "" {
		buildDir = DefaultBuildDir
	}

	key := newSecretsKey(stack)
	table := newTable(stack, key)
	fns := newFunctions(stack, buildDir, table, key)
	api := newHTTPAPI(stack, fns)
	newRunWorkflow(stack, buildDir, table, key, fns)

	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Base URL of the batchplane API"),
		Value:       api.ApiEndpoint(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	awscdk.NewCfnOutput(stack, jsii.String("SecretsKeyArn"), &awscdk.CfnOutputProps{Value: key.KeyArn()})
	return stack
}
