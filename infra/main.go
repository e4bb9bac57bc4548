// Command infra is batchplane's CDK app: one stack per customer.
//
//	cdk synth -c customer=acme   # stack Batchplane-acme
package main

import (
	"fmt"
	"os"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

var customerRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	customer, _ := app.Node().TryGetContext(jsii.String("customer")).(string)
	if !customerRE.MatchString(customer) {
		fmt.Fprintln(os.Stderr, "infra: pass -c customer=NAME (lower-case letters, digits, dashes)")
		os.Exit(2)
	}
	region, _ := app.Node().TryGetContext(jsii.String("region")).(string)
	if region == "" {
		region = "us-east-1"
	}
	buildDir, _ := app.Node().TryGetContext(jsii.String("buildDir")).(string)
	NewBatchplaneStack(app, "Batchplane-"+customer, &BatchplaneStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String(region)}},
		Customer:   customer,
		BuildDir:   buildDir,
	})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	app.Synth(nil)
}
