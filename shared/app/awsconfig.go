package app

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// LocalRegion is the region under `make run` and in tests.
const LocalRegion = "us-east-1"

// LoadAWSConfig builds a Lambda's AWS configuration from the environment
// the Lambda runtime sets: AWS_REGION and the execution role's
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (valid for
// the life of the execution environment: the default chain would pick the
// same ones first), and the endpoint overrides AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> (sam local, the cold-start bench). It does not
// use the SDK's config package on purpose: that links the SSO, SSO-OIDC,
// sign-in, IMDS and process credential providers into every function, about
// 0.4 MB zipped and several milliseconds of package initialisation per
// cold start, for sources a Lambda never reads. The CLI (cmd/batchplane)
// uses the full default chain.
func LoadAWSConfig(ctx context.Context) (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	ak, sk := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || ak == "" || sk == "" {
		return aws.Config{}, errors.New("load AWS config: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (the Lambda runtime sets them)")
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   credentials.NewStaticCredentialsProvider(ak, sk, os.Getenv("AWS_SESSION_TOKEN")),
		ConfigSources: []any{envEndpoints{}},
	}
	if u := os.Getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}

// envEndpoints answers the SDK clients' question for a service-specific
// endpoint (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SFN, ...), the
// variable naming the config package uses: the service's SDK id in upper
// case with spaces as underscores.
type envEndpoints struct{}

func (envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := os.Getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}
