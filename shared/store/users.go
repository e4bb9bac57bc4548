package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

type userItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string `dynamodbav:",omitempty"`
	Type           string
	ID             int64
	UserName       string
	FullName       string
	Role           string
	Teams          []string `dynamodbav:",stringset,omitempty"`
	CreatedAt      time.Time
}

func (u userItem) user() identity.User {
	return identity.User{ID: u.ID, UserName: u.UserName, FullName: u.FullName, Role: u.Role, Teams: u.Teams, CreatedAt: u.CreatedAt}
}

// NextUserID implements identity.Store with an atomic counter.
func (s *Store) NextUserID(ctx context.Context) (int64, error) {
	res, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(counterPK("USER"), skCounter),
		UpdateExpression:          aws.String("ADD N :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, mapErr("next user id", err)
	}
	var out struct{ N int64 }
	if err := attributevalue.UnmarshalMap(res.Attributes, &out); err != nil {
		return 0, fmt.Errorf("decode counter: %w", err)
	}
	return out.N, nil
}

// CreateUser implements identity.Store: the user, their unique name and
// their team memberships in one transaction.
func (s *Store) CreateUser(ctx context.Context, u identity.User) error {
	ui := userItem{PK: userPK(u.ID), SK: skUser, GSI1PK: gsiUsers, GSI1SK: padID(u.ID), Type: "User",
		ID: u.ID, UserName: u.UserName, FullName: u.FullName, Role: u.Role, Teams: u.Teams, CreatedAt: u.CreatedAt}
	pu, err := put(s.Table, ui, notExists)
	if err != nil {
		return err
	}
	pn, err := put(s.Table, map[string]any{"PK": userNamePK(strings.ToLower(u.UserName)), "SK": skUserName, "Type": "UserName", "UserID": u.ID}, notExists)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{pu, pn}
	for _, t := range u.Teams {
		pm, err := put(s.Table, memberOf(t, u), "")
		if err != nil {
			return err
		}
		items = append(items, pm)
	}
	return s.transact(ctx, "create user", items, func(i int) error {
		return errs.E(errs.Conflict, "A user named %q already exists.", u.UserName)
	})
}

// GetUser implements identity.Store.
func (s *Store) GetUser(ctx context.Context, id int64) (identity.User, error) {
	var it userItem
	if err := s.getItem(ctx, userPK(id), skUser, &it, fmt.Sprintf("User %d", id)); err != nil {
		return identity.User{}, err
	}
	return it.user(), nil
}

// GetUserByName implements identity.Store.
func (s *Store) GetUserByName(ctx context.Context, userName string) (identity.User, error) {
	var n struct{ UserID int64 }
	if err := s.getItem(ctx, userNamePK(strings.ToLower(userName)), skUserName, &n, "User "+strconv.Quote(userName)); err != nil {
		return identity.User{}, err
	}
	return s.GetUser(ctx, n.UserID)
}

// ListUsers implements identity.Store.
func (s *Store) ListUsers(ctx context.Context, teams []string, p identity.Page) ([]identity.User, string, error) {
	return listPage(ctx, s, teamQuery(gsiUsers, "users", teams, p), "users", userItem.user)
}

// UpdateUser implements identity.Store.
func (s *Store) UpdateUser(ctx context.Context, old, u identity.User) error {
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                &s.Table,
		Key:                      key(userPK(u.ID), skUser),
		UpdateExpression:         aws.String("SET UserName = :u, FullName = :f, #r = :r"),
		ConditionExpression:      aws.String(exists),
		ExpressionAttributeNames: map[string]string{"#r": "Role"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":u": str(u.UserName), ":f": str(u.FullName), ":r": str(u.Role)},
	}}}
	if !strings.EqualFold(old.UserName, u.UserName) {
		pn, err := put(s.Table, map[string]any{"PK": userNamePK(strings.ToLower(u.UserName)), "SK": skUserName, "Type": "UserName", "UserID": u.ID}, notExists)
		if err != nil {
			return err
		}
		items = append(items, del(s.Table, userNamePK(strings.ToLower(old.UserName)), skUserName, ""), pn)
	}
	for _, t := range old.Teams {
		pm, err := put(s.Table, memberOf(t, u), "")
		if err != nil {
			return err
		}
		items = append(items, pm)
	}
	return s.transact(ctx, "update user", items, func(i int) error {
		if i == 0 {
			return errs.NotFoundf("User %d not found.", u.ID)
		}
		if i == 2 {
			return errs.E(errs.Conflict, "A user named %q already exists.", u.UserName)
		}
		return nil
	})
}
