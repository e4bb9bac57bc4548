package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/batchplane/batchplane/shared/routes"
)

// newTable is the single table with the key schema, indexes and TTL
// attribute of routes.Table (the store package builds the items). It has
// no fixed name, so two customers' stacks can share an account, and it is
// retained and deletion-protected: it holds every customer record.
func newTable(stack awscdk.Stack, key awskms.IKey) awsdynamodb.Table {
	t := routes.Table
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: stringAttr(t.PartitionKey),
		SortKey:      stringAttr(t.SortKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection:  jsii.Bool(true),
		Encryption:          awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:       key,
		TimeToLiveAttribute: jsii.String(t.TTLAttribute),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	for _, g := range t.GSIs {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(g.Name),
			PartitionKey:   stringAttr(g.PartitionKey),
			SortKey:        stringAttr(g.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return table
}

func stringAttr(name string) *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
}
