package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/batchplane/batchplane/infra/internal/spec"
	"github.com/batchplane/batchplane/shared/routes"
)

// newHTTPAPI routes every deployed route, in each casing the seeds use, to
// its function with payload format 2.0, and $default to the function that
// serves the whole router. Access logs go to a retained log group; the
// default stage is throttled.
func newHTTPAPI(stack awscdk.Stack, fns map[string]awslambda.Function) awsapigatewayv2.HttpApi {
	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	integration := func(name string) awsapigatewayv2integrations.HttpLambdaIntegration {
		if i, ok := integrations[name]; ok {
			return i
		}
		fn, ok := fns[name]
		if !ok {
			panic(fmt.Sprintf("infra: shared/routes names function %q, which the stack does not deploy", name))
		}
		i := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Integration"+spec.Pascal(name)), fn,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			})
		integrations[name] = i
		return i
	}

	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("batchplane API"),
		DefaultIntegration: integration(routes.DefaultFunction),
		CreateDefaultStage: jsii.Bool(false),
	})
	seen := map[string]string{}
	for _, r := range routes.Deployed() {
		for _, p := range r.Paths() {
			key := spec.RouteKey(r.Method, p)
			if prev, dup := seen[key]; dup {
				panic(fmt.Sprintf("infra: route key %q is both %s and %s in shared/routes", key, prev, r.Name))
			}
			seen[key] = r.Name
			api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
				Path:        jsii.String(p),
				Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
				Integration: integration(r.Function),
			})
		}
	}

	stage := api.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(spec.RateLimit),
			BurstLimit: jsii.Number(spec.BurstLimit),
		},
	})
	accessLogs := newLogGroup(stack, "ApiAccessLogs", awslogs.RetentionDays_ONE_YEAR, // spec.AccessLogRetentionDays; the tests hold them equal
		awscdk.RemovalPolicy_RETAIN)
	// The L2 stage takes access logs only through an IAccessLogSettings
	// implementation; the L1 property says the same plainly.
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(spec.AccessLogFormat),
	})
	suppressAPIAuthorization(api)
	return api
}
