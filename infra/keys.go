package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"
)

// newSecretsKey is the customer-managed KMS key that seals API secrets
// (routes.EnvKMSKey) and encrypts the table at rest. It rotates yearly and
// outlives the stack: destroying it would make every sealed secret and the
// retained table unreadable.
func newSecretsKey(stack awscdk.Stack) awskms.Key {
	return awskms.NewKey(stack, jsii.String("SecretsKey"), &awskms.KeyProps{
		Description:       jsii.String("batchplane: seals API secrets and encrypts the table"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
}
