package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// newSecretsKey is the customer-managed KMS key that seals API secrets
// (routes.EnvKMSKey) and encrypts the table at rest. It rotates yearly and
// outlives the stack: destroying it would make every sealed secret and the
// retained table unreadable.
func newSecretsKey(stack awscdk.Stack) awskms.Key {
	key := awskms.NewKey(stack, jsii.String("SecretsKey"), &awskms.KeyProps{
		Description:       jsii.String("batchplane: seals API secrets and encrypts the table"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	denyGrantsButForAWSServices(key)
	return key
}

// logsKeyID is the logs key's construct id: one per stack.
const logsKeyID = "LogsKey"

// logsKey is the stack's KMS key for its log groups, created on first use.
// It is apart from the secrets key so that CloudWatch Logs, which must use
// it, is granted nothing on the key that seals secrets. CloudWatch Logs in
// this region may use it only for this account's log groups (the
// aws:logs:arn encryption context it always sends); it rotates yearly and
// is retained like the retained log groups it encrypts.
func logsKey(stack awscdk.Stack) awskms.Key {
	if k, ok := stack.Node().TryFindChild(jsii.String(logsKeyID)).(awskms.Key); ok {
		return k
	}
	key := awskms.NewKey(stack, jsii.String(logsKeyID), &awskms.KeyProps{
		Description:       jsii.String("batchplane: encrypts the functions', API's and run workflow's log groups"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*stack.Region()+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"), nil),
		}},
	}), jsii.Bool(false))
	denyGrantsButForAWSServices(key)
	return key
}

// denyGrantsButForAWSServices lets only AWS services create grants on key,
// for resources they manage with it (DynamoDB on the table's key; Control
// Tower's CT.KMS.PR.3): a grant is a standing permission outside the key
// policy, so no principal of the account may hand one out itself.
func denyGrantsButForAWSServices(key awskms.Key) {
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"BoolIfExists": map[string]any{
			"kms:GrantIsForAWSResource": "false",
			"aws:PrincipalIsAWSService": "false",
		}},
	}), jsii.Bool(false))
}

// newLogGroup is a log group kept retention long and encrypted with the
// stack's logs key (Control Tower's CT.CLOUDWATCH.PR.2 and PR.3 ask for a
// year or more, encrypted with a customer-managed key).
func newLogGroup(stack awscdk.Stack, id string, retention awslogs.RetentionDays, removal awscdk.RemovalPolicy) awslogs.LogGroup {
	return awslogs.NewLogGroup(stack, jsii.String(id), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: removal,
		EncryptionKey: logsKey(stack),
	})
}
