// Package app is batchplane's one start-up: it reads the environment, loads
// AWS configuration once, and builds store → services → router for every
// Lambda (functions/*/main.go) and for the local server.
package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// LocalRegion is the region under `make run` and in tests.
const LocalRegion = "us-east-1"

// LocalAWSConfig returns an AWS config for local emulators: static dummy
// credentials, so nothing on the machine (or its absence) matters.
func LocalAWSConfig() aws.Config {
	return aws.Config{
		Region:      LocalRegion,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// LocalDynamo returns a DynamoDB client for DynamoDB Local at endpoint.
func LocalDynamo(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	opts := append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }}, optFns...)
	return dynamodb.NewFromConfig(LocalAWSConfig(), opts...)
}

// LoadAWSConfig loads the Lambda's AWS configuration once at start-up.
func LoadAWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}
