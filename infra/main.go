// Command infra is batchplane's CDK app: one stack per customer.
//
//	cdk synth -c customer=acme                     # stack Batchplane-acme in us-east-1
//	cdk synth -c customer=acme -c region=eu-west-1
//	cdk synth -c customer=acme -c buildDir=/tmp/build
//
// The region comes from the region context key, else CDK_DEFAULT_REGION or
// AWS_REGION, else us-east-1. The account is left to deploy time, so a
// synth needs no AWS credentials.
package main

import (
	"fmt"
	"os"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// customerPattern keeps stack names valid and readable.
var customerPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// StackName is the stack of a customer's deployment.
func StackName(customer string) string { return "Batchplane-" + customer }

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	customer := contextString(app, "customer")
	if !customerPattern.MatchString(customer) {
		fmt.Fprintf(os.Stderr, "infra: pass -c customer=NAME: 1-40 lower-case letters, digits and inner dashes (got %q)\n", customer)
		os.Exit(2)
	}
	region := firstNonEmpty(contextString(app, "region"), os.Getenv("CDK_DEFAULT_REGION"), os.Getenv("AWS_REGION"), "us-east-1")
	NewBatchplaneStack(app, StackName(customer), &BatchplaneStackProps{
		StackProps: awscdk.StackProps{
			Env:         &awscdk.Environment{Region: jsii.String(region)},
			Description: jsii.String("batchplane for " + customer),
		},
		Customer: customer,
		BuildDir: contextString(app, "buildDir"),
	})
	AddNagChecks(app)
	app.Synth(nil)
}

func contextString(app awscdk.App, key string) string {
	s, _ := app.Node().TryGetContext(jsii.String(key)).(string)
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
