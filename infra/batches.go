package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/batchplane/batchplane/shared/routes"
)

// Batch job state events, as AWS Batch sends them to EventBridge.
const (
	batchSource     = "aws.batch"
	batchDetailType = "Batch Job State Change"
)

// newBatchWorkers wires tool batches in AWS: customers' AWS Batch job state
// events into the events function (a rule on the default bus, retried,
// with a dead-letter queue, and the bus policy admitting aws.batch), the
// dispatch function invoked asynchronously (two retries, then the same
// dead-letter queue), and each kicker's right to invoke it: its name in
// routes.EnvBatchDispatch and lambda:InvokeFunction on that function only.
func newBatchWorkers(stack awscdk.Stack, workers, httpFns map[string]awslambda.Function, customerBus awsevents.IEventBus) {
	dispatch, events := workers[routes.FnBatchDispatch], workers[routes.FnEvents]
	if dispatch == nil || events == nil {
		panic("routes.Workers has no " + routes.FnBatchDispatch + " or " + routes.FnEvents + " function")
	}
	// SSE-SQS: EventBridge cannot write to a queue under the AWS managed
	// KMS key, and the messages hold only event payloads and batch ids.
	dlq := awssqs.NewQueue(stack, jsii.String("BatchDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter queue of the Batch events rule and of the dispatch function's asynchronous invocations."),
	}}, jsii.Bool(true))

	// This account's own jobs on its default bus, customers' accounts' on
	// the customer bus (newCustomerBus: only registered accounts may put
	// events there, and only aws.ec2 and aws.batch ones), as for EC2.
	for _, r := range []struct {
		id  string
		bus awsevents.IEventBus
	}{{"BatchEvents", nil}, {"CustomerBatchEvents", customerBus}} {
		rule := awsevents.NewRule(stack, jsii.String(r.id), &awsevents.RuleProps{
			Description:  jsii.String("AWS Batch job state changes move tool batches' jobs and counts"),
			EventPattern: &awsevents.EventPattern{Source: jsii.Strings(batchSource), DetailType: jsii.Strings(batchDetailType)},
			EventBus:     r.bus,
		})
		rule.AddTarget(awseventstargets.NewLambdaFunction(events, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: dlq, RetryAttempts: jsii.Number(8), MaxEventAge: awscdk.Duration_Hours(jsii.Number(2)),
		}))
	}

	dispatch.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(6)),
		OnFailure: awslambdadestinations.NewSqsDestination(dlq),
	})
	invoke := func() awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("lambda:InvokeFunction"), Resources: &[]*string{dispatch.FunctionArn()},
		})
	}
	// The batches function reads job logs (and the dispatcher's work) in
	// customers' accounts, as their role.
	httpFns[routes.FnBatches].Role().AddToPrincipalPolicy(ec2Policy())
	suppressAssumeCustomerRoles(httpFns[routes.FnBatches].Role())
	for _, name := range routes.BatchKickers {
		if name == routes.FnBatchDispatch {
			// Its own ARN in its own role's default policy would make the
			// function and the policy depend on each other: a separate
			// policy depends on both instead. It finds its own name in
			// AWS_LAMBDA_FUNCTION_NAME.
			awsiam.NewPolicy(stack, jsii.String("BatchDispatchSelfInvoke"), &awsiam.PolicyProps{
				Roles: &[]awsiam.IRole{dispatch.Role()}, Statements: &[]awsiam.PolicyStatement{invoke()},
			})
			continue
		}
		fn := workers[name]
		if fn == nil {
			fn = httpFns[name]
		}
		if fn == nil {
			panic("routes.BatchKickers names " + name + ", which is no function")
		}
		fn.AddEnvironment(jsii.String(routes.EnvBatchDispatch), dispatch.FunctionName(), nil)
		fn.AddToRolePolicy(invoke())
	}
}
