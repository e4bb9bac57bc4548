package main

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/batchplane/batchplane/shared/routes"
)

// newRunWorkflow deploys the run state machine from
// statemachines/run.asl.json (the file the local runner executes), one
// Lambda per task, the EC2 events function behind EventBridge rules and the
// safety sweep on a schedule; every rule target retries and has a
// dead-letter queue.
func newRunWorkflow(stack awscdk.Stack, buildDir string, table awsdynamodb.Table, key awskms.Key, httpFns map[string]awslambda.Function) {
	workers := map[string]awslambda.Function{}
	subs := map[string]*string{}
	for _, w := range routes.Workers {
		fn := newFunction(stack, w.Function, buildDir, table, key)
		fn.Role().AddToPrincipalPolicy(ec2Policy())
		suppressAssumeCustomerRoles(fn.Role())
		workers[w.Function] = fn
		if w.Task != "" {
			subs[w.Task.Substitution()] = fn.FunctionArn()
		}
	}
	sm := newRunStateMachine(stack, subs)
	for _, w := range routes.Workers {
		if w.Task != "" {
			workers[w.Function].GrantInvoke(sm)
		}
	}
	awaitStop, ok := routes.WorkerOf(routes.TaskAwaitStop)
	if !ok {
		panic("routes.Workers has no AwaitStop task: the wait task needs states:SendTaskSuccess")
	}
	grantRuns(sm, httpFns, workers[awaitStop.Function])
	newWorkerRules(stack, workers[routes.FnEvents], workers[routes.FnSweep])
	newBatchWorkers(stack, workers, httpFns)
}

// newRunStateMachine is the run state machine with the task functions'
// ARNs substituted, logged and traced.
func newRunStateMachine(stack awscdk.Stack, subs map[string]*string) awsstepfunctions.StateMachine {
	logs := awslogs.NewLogGroup(stack, jsii.String("RunStateMachineLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_YEAR, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	sm := awsstepfunctions.NewStateMachine(stack, jsii.String("RunStateMachine"), &awsstepfunctions.StateMachineProps{
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromFile(jsii.String(filepath.Join("statemachines", "run.asl.json")), nil),
		DefinitionSubstitutions: &subs,
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		TracingEnabled:          jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{Destination: logs, Level: awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true)},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(sm, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Step Functions' CDK grants invoke the task functions' versions (<fn>.Arn:*) and write logs and X-Ray segments, which have no resource-level permissions."),
		AppliesTo: &[]interface{}{"Resource::*", map[string]any{"regex": "/^Resource::<FnTask.*\\.Arn>:\\*$/g"}},
	}}, jsii.Bool(true))
	return sm
}

// grantRuns lets the HTTP functions that execute and stop runs (apps, runs,
// $default) start executions and reach customers, and the functions that
// resume a waiting execution (runs, $default, the wait task) send its
// task token.
func grantRuns(sm awsstepfunctions.StateMachine, httpFns map[string]awslambda.Function, awaitStop awslambda.Function) {
	// Execute starts executions; Stop and the wait task resume them.
	// SendTaskSuccess has no resource-level permission (its token names the
	// execution), so the wait task needs no reference to the machine, which
	// would make the machine and its own task depend on each other.
	for _, fn := range []awslambda.Function{httpFns[routes.FnApps], httpFns[routes.FnRuns], httpFns[routes.DefaultFunction]} {
		fn.AddEnvironment(jsii.String(routes.EnvStateMachine), sm.StateMachineArn(), nil)
		sm.GrantStartExecution(fn)
	}
	for _, fn := range []awslambda.Function{httpFns[routes.FnRuns], httpFns[routes.DefaultFunction], awaitStop} {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("states:SendTaskSuccess"), Resources: jsii.Strings("*"),
		}))
		suppressTaskToken(fn.Role())
	}
	for _, name := range []string{routes.FnApps, routes.FnRuns, routes.DefaultFunction} {
		httpFns[name].Role().AddToPrincipalPolicy(ec2Policy())
		suppressAssumeCustomerRoles(httpFns[name].Role())
	}
}

// newWorkerRules routes customers' EC2 events to the events function and
// runs the safety sweep every 10 minutes; both targets retry and keep what
// they could not deliver in a dead-letter queue.
func newWorkerRules(stack awscdk.Stack, events, sweep awslambda.Function) {
	dlq := awssqs.NewQueue(stack, jsii.String("EventsDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_KMS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter queue of the EventBridge targets."),
	}}, jsii.Bool(true))
	target := func(fn awslambda.Function) awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: dlq, RetryAttempts: jsii.Number(8), MaxEventAge: awscdk.Duration_Hours(jsii.Number(2)),
		})
	}
	ec2Events := awsevents.NewRule(stack, jsii.String("Ec2Events"), &awsevents.RuleProps{
		Description: jsii.String("EC2 state changes and spot interruption warnings keep runs at their desired state"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.ec2"),
			DetailType: jsii.Strings("EC2 Instance State-change Notification", "EC2 Spot Instance Interruption Warning"),
		},
	})
	ec2Events.AddTarget(target(events))
	// Customers' EC2 events arrive from their accounts: their rule forwards
	// them to this account's default bus (docs/operations.md). Only AWS can
	// emit aws.* sources, so the condition admits genuine EC2 events only,
	// and the handler ignores instances batchplane did not launch.
	awsevents.NewCfnEventBusPolicy(stack, jsii.String("AcceptCustomerEc2Events"), &awsevents.CfnEventBusPolicyProps{
		StatementId: jsii.String(*stack.StackName() + "-customer-ec2-events"), // one per stack: the default bus is the account's
		Statement: map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": "*"},
			"Action":    "events:PutEvents",
			"Resource":  awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"), nil),
			"Condition": map[string]any{"StringEquals": map[string]any{"events:source": "aws.ec2"}},
		},
	})
	rule := awsevents.NewRule(stack, jsii.String("SafetySweep"), &awsevents.RuleProps{
		Description: jsii.String("Reconciles active runs whose events were lost"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(10))),
	})
	rule.AddTarget(target(sweep))
}

// ec2Policy lets a function assume customers' roles: batchplane acts in a
// customer's account only through the role the customer registered, with
// its ExternalId; the role's own trust policy decides.
func ec2Policy() awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: jsii.Strings("arn:aws:iam::*:role/*"),
		Conditions: &map[string]any{
			"StringLike": map[string]any{"sts:ExternalId": "bp-*"},
		},
	})
}
