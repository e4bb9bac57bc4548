// Command floor is the cold-start floor for `make bench`: a native
// aws-lambda-go function that answers an API Gateway event with a constant,
// linking no AWS SDK. A function's cold start minus the floor's is what
// batchplane's own start-up costs on the machine at hand.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{"Status":"ok"}`}, nil
	})
}
