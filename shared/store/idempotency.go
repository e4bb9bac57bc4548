package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/idempotency"
)

var _ idempotency.Store = (*Store)(nil)

const skIdemp = "IDEMP"

type idempItem struct {
	PK, SK, Type string
	idempotency.Record
	ExpiresAt int64 // DynamoDB TTL (epoch seconds)
}

// BeginIdempotent implements idempotency.Store.
func (s *Store) BeginIdempotent(ctx context.Context, scope, requestHash string, expires time.Time) (idempotency.Record, bool, error) {
	av, err := attributevalue.MarshalMap(idempItem{PK: idempPK(scope), SK: skIdemp, Type: "Idempotency",
		Record: idempotency.Record{RequestHash: requestHash}, ExpiresAt: expires.Unix()})
	if err != nil {
		return idempotency.Record{}, false, err
	}
	// An expired record (TTL deletion is lazy) counts as absent.
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: av,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR ExpiresAt < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Unix())}}})
	if err == nil {
		return idempotency.Record{}, true, nil
	}
	if !isConditionFailed(err) {
		return idempotency.Record{}, false, mapErr("begin idempotent", err)
	}
	var it idempItem
	if err := s.getItem(ctx, idempPK(scope), skIdemp, &it, "idempotency record"); err != nil {
		return idempotency.Record{}, false, err
	}
	return it.Record, false, nil
}

// CompleteIdempotent implements idempotency.Store.
func (s *Store) CompleteIdempotent(ctx context.Context, scope string, rec idempotency.Record, expires time.Time) error {
	av, err := attributevalue.MarshalMap(idempItem{PK: idempPK(scope), SK: skIdemp, Type: "Idempotency", Record: rec, ExpiresAt: expires.Unix()})
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: av})
	return mapErr("complete idempotent", err)
}

// AbandonIdempotent implements idempotency.Store.
func (s *Store) AbandonIdempotent(ctx context.Context, scope string) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.Table, Key: key(idempPK(scope), skIdemp)})
	return mapErr("abandon idempotent", err)
}
