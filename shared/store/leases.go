package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ActiveRuns implements runs.Store.
func (s *Store) ActiveRuns(ctx context.Context) ([]string, error) {
	var out []string
	var start map[string]types.AttributeValue
	for {
		res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.Table,
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkActiveRuns)},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, mapErr("active runs", err)
		}
		for _, it := range res.Items {
			if sk, ok := it["SK"].(*types.AttributeValueMemberS); ok {
				out = append(out, sk.Value)
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// LeaseRun implements runs.Store with a conditional write on the run's
// lease item (apart from the run item, whose versioned puts would drop it).
func (s *Store) LeaseRun(ctx context.Context, runID, holder string, now, until time.Time) (bool, error) {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.Table,
		Key:                      key(runPK(runID), skLease),
		UpdateExpression:         aws.String("SET Holder = :h, LeaseUntil = :until, #t = :type"),
		ConditionExpression:      aws.String("attribute_not_exists(LeaseUntil) OR LeaseUntil < :now OR Holder = :h"),
		ExpressionAttributeNames: map[string]string{"#t": "Type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h": str(holder), ":type": str("RunLease"),
			":until": &types.AttributeValueMemberN{Value: fmt.Sprint(until.UnixNano())},
			":now":   &types.AttributeValueMemberN{Value: fmt.Sprint(now.UnixNano())},
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, mapErr("lease run", err)
	}
	return true, nil
}

// ReleaseRun implements runs.Store.
func (s *Store) ReleaseRun(ctx context.Context, runID, holder string) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(runPK(runID), skLease),
		UpdateExpression:          aws.String("REMOVE Holder, LeaseUntil"),
		ConditionExpression:       aws.String("Holder = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(holder)},
	})
	if isConditionFailed(err) {
		return nil
	}
	return mapErr("release run", err)
}

// MarkDirty implements runs.Store.
func (s *Store) MarkDirty(ctx context.Context, runID string) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(runPK(runID), skLease),
		UpdateExpression:          aws.String("SET Dirty = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
	})
	return mapErr("mark run dirty", err)
}

// TakeDirty implements runs.Store.
func (s *Store) TakeDirty(ctx context.Context, runID string) (bool, error) {
	res, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.Table,
		Key:              key(runPK(runID), skLease),
		UpdateExpression: aws.String("REMOVE Dirty"),
		ReturnValues:     types.ReturnValueUpdatedOld,
	})
	if err != nil {
		return false, mapErr("take dirty", err)
	}
	_, was := res.Attributes["Dirty"]
	return was, nil
}
