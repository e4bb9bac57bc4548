package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/execution"
)

// Executions persists the local state machine runner's checkpoints in the
// table (execution.Store), so a restarted `make run` resumes runs.
type Executions struct{ S *Store }

// NewExecutions returns the checkpoints of the executions kept in table.
func NewExecutions(db *dynamodb.Client, table string) Executions {
	return Executions{S: New(db, table, Tokens{})}
}

var _ execution.Store = Executions{}

type execItem struct {
	PK, SK, Type string
	execution.Checkpoint
}

// Save implements execution.Store.
func (e Executions) Save(ctx context.Context, cp execution.Checkpoint) error {
	s := e.S
	p, err := put(s.Table, execItem{PK: execPK(cp.Name), SK: skExec, Type: "Execution", Checkpoint: cp}, "")
	if err != nil {
		return err
	}
	marker := del(s.Table, pkRunningExecs, cp.Name, "")
	if cp.Status == execution.Running {
		if marker, err = put(s.Table, map[string]any{"PK": pkRunningExecs, "SK": cp.Name, "Type": "RunningExecution"}, ""); err != nil {
			return err
		}
	}
	return s.transact(ctx, "save execution", []types.TransactWriteItem{p, marker}, nil)
}

// Load implements execution.Store.
func (e Executions) Load(ctx context.Context, name string) (execution.Checkpoint, bool, error) {
	res, err := e.S.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.S.Table, Key: key(execPK(name), skExec), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return execution.Checkpoint{}, false, mapErr("load execution", err)
	}
	if res.Item == nil {
		return execution.Checkpoint{}, false, nil
	}
	var it execItem
	if err := attributevalue.UnmarshalMap(res.Item, &it); err != nil {
		return execution.Checkpoint{}, false, fmt.Errorf("decode execution: %w", err)
	}
	return it.Checkpoint, true, nil
}

// Running implements execution.Store.
func (e Executions) Running(ctx context.Context) ([]string, error) {
	res, err := e.S.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &e.S.Table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkRunningExecs)},
	})
	if err != nil {
		return nil, mapErr("running executions", err)
	}
	var out []string
	for _, it := range res.Items {
		if sk, ok := it["SK"].(*types.AttributeValueMemberS); ok {
			out = append(out, sk.Value)
		}
	}
	return out, nil
}
