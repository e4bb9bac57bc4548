package dynamolocal

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Region and AccessKey are what every client of DynamoDB Local signs with:
// DynamoDB Local keeps a database per access key and region, so the local
// server, the tests, the bench and the functions it cold-starts (which
// read AWS_ACCESS_KEY_ID=local, AWS_REGION=us-east-1) see the same tables.
const (
	Region    = "us-east-1"
	AccessKey = "local"
)

// Client returns a DynamoDB client for DynamoDB Local at endpoint, with
// static dummy credentials, so nothing on the machine (or its absence)
// matters.
func Client(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, AccessKey, ""),
	}
	opts := append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }}, optFns...)
	return dynamodb.NewFromConfig(cfg, opts...)
}
