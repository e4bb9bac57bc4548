package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

type keyItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	Type           string
	AccessKey      string
	UserID         int64
	Status         string
	CreatedAt      time.Time
	RevokedAt      *time.Time
	Sealed         []byte
}

func (k keyItem) key() identity.Key {
	return identity.Key{AccessKey: k.AccessKey, UserID: k.UserID, Status: k.Status, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt, Sealed: k.Sealed}
}

// CreateKey implements identity.Store: the user's active-key count guards
// the limit in the same transaction.
func (s *Store) CreateKey(ctx context.Context, k identity.Key) error {
	pk, err := put(s.Table, keyItem{PK: keyPK(k.AccessKey), SK: skKey, GSI1PK: userKeysGSI(k.UserID), GSI1SK: k.CreatedAt.Format(time.RFC3339Nano),
		Type: "Key", AccessKey: k.AccessKey, UserID: k.UserID, Status: k.Status, CreatedAt: k.CreatedAt, Sealed: k.Sealed}, notExists)
	if err != nil {
		return err
	}
	return s.transact(ctx, "create key", []types.TransactWriteItem{{Update: &types.Update{
		TableName:           &s.Table,
		Key:                 key(userPK(k.UserID), skUser),
		UpdateExpression:    aws.String("ADD ActiveKeys :one"),
		ConditionExpression: aws.String("attribute_exists(PK) AND (attribute_not_exists(ActiveKeys) OR ActiveKeys < :max)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":max": &types.AttributeValueMemberN{Value: strconv.Itoa(identity.MaxActiveKeys)}},
	}}, pk}, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "User %d already has %d active keys; revoke one first.", k.UserID, identity.MaxActiveKeys)
		}
		return errs.E(errs.Conflict, "Key collision; retry.")
	})
}

// GetKey implements identity.Store.
func (s *Store) GetKey(ctx context.Context, accessKey string) (identity.Key, error) {
	var it keyItem
	if err := s.getItem(ctx, keyPK(accessKey), skKey, &it, "Key "+strconv.Quote(accessKey)); err != nil {
		return identity.Key{}, err
	}
	return it.key(), nil
}

// ListKeys implements identity.Store (a user holds few keys: one page).
func (s *Store) ListKeys(ctx context.Context, userID int64) ([]identity.Key, error) {
	res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.Table,
		IndexName:                 aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userKeysGSI(userID))},
		Limit:                     aws.Int32(MaxPageSize),
	})
	if err != nil {
		return nil, mapErr("list keys", err)
	}
	return decode(res.Items, "keys", keyItem.key)
}

// RevokeKey implements identity.Store.
func (s *Store) RevokeKey(ctx context.Context, k identity.Key, at time.Time) error {
	ts, err := attributevalue.Marshal(at)
	if err != nil {
		return err
	}
	// A concurrent revoke that won makes the condition fail: the key is
	// revoked, which is what this caller asked for.
	err = s.transact(ctx, "revoke key", []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 &s.Table,
			Key:                       key(keyPK(k.AccessKey), skKey),
			UpdateExpression:          aws.String("SET #s = :revoked, RevokedAt = :at"),
			ConditionExpression:       aws.String("#s = :active"),
			ExpressionAttributeNames:  map[string]string{"#s": "Status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":revoked": str(identity.KeyRevoked), ":active": str(identity.KeyActive), ":at": ts},
		}},
		{Update: &types.Update{
			TableName:                 &s.Table,
			Key:                       key(userPK(k.UserID), skUser),
			UpdateExpression:          aws.String("ADD ActiveKeys :m"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":m": &types.AttributeValueMemberN{Value: "-1"}},
		}},
	}, func(i int) error {
		if i == 0 {
			return errAlreadyDone
		}
		return nil
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
	}
	return err
}

// errAlreadyDone is what an onCancel returns when the failed condition
// means a concurrent request already did the work.
var errAlreadyDone = errors.New("store: already done")
