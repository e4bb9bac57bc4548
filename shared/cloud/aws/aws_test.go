package aws_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/batchplane/batchplane/shared/cloud"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
	"github.com/batchplane/batchplane/shared/cloud/aws/awstest"
)

// TestClientsPerTarget: a service's client is built once per target, in
// the target's region, and the clients of two targets differ.
func TestClientsPerTarget(t *testing.T) {
	assumed := 0
	p := cloudaws.New(aws.Config{Region: "us-east-1"}, cloudaws.WithCredentials(func(cloud.Target) aws.CredentialsProvider {
		assumed++
		return credentials.NewStaticCredentialsProvider("AK", "SK", "")
	}))
	built := 0
	cs := cloudaws.NewClients[string](p)
	newClient := func(cfg aws.Config) string {
		built++
		return cfg.Region
	}
	other := awstest.Target
	other.Region = "us-west-2"
	for _, tc := range []struct {
		target     cloud.Target
		want       string
		wantBuilds int
	}{
		{awstest.Target, "eu-west-1", 1},
		{awstest.Target, "eu-west-1", 1},
		{other, "us-west-2", 2},
	} {
		if got := cs.For(tc.target, newClient); got != tc.want || built != tc.wantBuilds {
			t.Errorf("For(%s) = %q after %d builds, want %q after %d", tc.target.Region, got, built, tc.want, tc.wantBuilds)
		}
	}
	if p.Config(awstest.Target); assumed != 2 {
		t.Errorf("roles assumed %d times, want once per target", assumed)
	}
}

// TestCheck: the role check is STS GetCallerIdentity as the target's
// role; a denied role is cloud.ErrAccessDenied.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"assumable", nil, nil},
		{"denied", &smithy.GenericAPIError{Code: "AccessDenied"}, cloud.ErrAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &awstest.Capture{Respond: func(string, any) (any, error) {
				if tc.err != nil {
					return nil, tc.err
				}
				return &sts.GetCallerIdentityOutput{}, nil
			}}
			err := awstest.Provider(c).Check(context.Background(), awstest.Target)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if ops := c.Ops(); len(ops) != 1 || ops[0] != "GetCallerIdentity" {
				t.Fatalf("ops %v", ops)
			}
		})
	}
}
