package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/batches"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

type toolItem struct {
	PK, SK, Type   string
	GSI1PK, GSI1SK string
	// Gen counts the batches submitted and retried with the tool.
	Gen int64
	batches.Tool
}

// NextToolNumber implements batches.Store.
func (s *Store) NextToolNumber(ctx context.Context) (int64, error) {
	res, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(counterPK("TOOL"), skCounter),
		UpdateExpression:          aws.String("ADD N :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, mapErr("next tool number", err)
	}
	var out struct{ N int64 }
	if err := attributevalue.UnmarshalMap(res.Attributes, &out); err != nil {
		return 0, fmt.Errorf("decode counter: %w", err)
	}
	return out.N, nil
}

// CreateTool implements batches.Store.
func (s *Store) CreateTool(ctx context.Context, t batches.Tool) error {
	av, err := attributevalue.MarshalMap(toolItem{PK: toolPK(t.ID), SK: skTool, Type: "Tool", GSI1PK: gsiTools, GSI1SK: t.ID, Tool: t})
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: av, ConditionExpression: aws.String(notExists)})
	if isConditionFailed(err) {
		return errs.E(errs.Conflict, "Tool %q already exists.", t.ID)
	}
	return mapErr("put tool", err)
}

// GetTool implements batches.Store.
func (s *Store) GetTool(ctx context.Context, id string) (batches.Tool, error) {
	var it toolItem
	if err := s.getItem(ctx, toolPK(id), skTool, &it, "Tool "+strconv.Quote(id)); err != nil {
		return batches.Tool{}, err
	}
	return it.Tool, nil
}

// ListTools implements batches.Store.
func (s *Store) ListTools(ctx context.Context, p identity.Page) ([]batches.Tool, string, error) {
	q := query{index: "GSI1", pkName: "GSI1PK", pk: gsiTools, forward: true, scope: "tools", token: p.Token, limit: p.Limit}
	return listPage(ctx, s, q, "tools", func(it toolItem) batches.Tool { return it.Tool })
}

// ToolBatches implements batches.Store.
func (s *Store) ToolBatches(ctx context.Context, toolID string) (int64, []string, error) {
	var it toolItem
	if err := s.getItemConsistent(ctx, toolPK(toolID), skTool, &it, "Tool "+strconv.Quote(toolID)); err != nil {
		return 0, nil, err
	}
	var ids []string
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{
		TableName: &s.Table, IndexName: aws.String("GSI2"),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(toolBatchesGSI(toolID))},
		ProjectionExpression:      aws.String("GSI2SK"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, nil, mapErr("list batches of tool "+toolID, err)
		}
		for _, item := range page.Items {
			if v, ok := item["GSI2SK"].(*types.AttributeValueMemberS); ok {
				ids = append(ids, v.Value)
			}
		}
	}
	return it.Gen, ids, nil
}

// DeleteTool implements batches.Store.
func (s *Store) DeleteTool(ctx context.Context, id string, gen int64) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.Table, Key: key(toolPK(id), skTool),
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(Gen) OR Gen = :g)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": num(gen)},
	})
	if isConditionFailed(err) {
		return errs.E(errs.Conflict, "Tool %s was used by a new batch meanwhile; retry.", id)
	}
	return mapErr("delete tool "+id, err)
}
