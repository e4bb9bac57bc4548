package app

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func TestLoadAWSConfigFromLambdaEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name             string
		env              map[string]string
		wantErr          bool
		wantRegion       string
		wantDDB, wantKMS string // resolved base endpoints ("" = the SDK's own)
	}{
		{name: "lambda", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "TOK"},
			wantRegion: "eu-west-1"},
		{name: "default region", env: map[string]string{"AWS_DEFAULT_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SK"},
			wantRegion: "us-west-2"},
		{name: "service endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SK",
			"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"}, wantRegion: "us-east-1", wantDDB: "http://127.0.0.1:8000"},
		{name: "global and service endpoint", env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SK",
			"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"},
			wantRegion: "us-east-1", wantDDB: "http://127.0.0.1:8000", wantKMS: "http://127.0.0.1:4566"},
		{name: "no credentials", env: map[string]string{"AWS_REGION": "us-east-1"}, wantErr: true},
		{name: "no region", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SK"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
				"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_KMS"} {
				t.Setenv(k, tc.env[k])
			}
			cfg, err := LoadAWSConfig(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if cfg.Region != tc.wantRegion {
				t.Errorf("region %q, want %q", cfg.Region, tc.wantRegion)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "SK" || creds.SessionToken != tc.env["AWS_SESSION_TOKEN"] {
				t.Errorf("credentials %+v, %v", creds, err)
			}
			if got := aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint); got != tc.wantDDB {
				t.Errorf("DynamoDB endpoint %q, want %q", got, tc.wantDDB)
			}
			if got := aws.ToString(kms.NewFromConfig(cfg).Options().BaseEndpoint); got != tc.wantKMS {
				t.Errorf("KMS endpoint %q, want %q", got, tc.wantKMS)
			}
		})
	}
}
