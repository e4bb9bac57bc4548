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

var _ identity.Store = (*Store)(nil)

type teamItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string `dynamodbav:",omitempty"`
	Type           string
	ID             string
	Name           string
	Description    *string
	IsDefault      bool
	CreatedAt      time.Time
}

func (t teamItem) team() identity.Team {
	return identity.Team{ID: t.ID, Name: t.Name, Description: t.Description, IsDefault: t.IsDefault, CreatedAt: t.CreatedAt}
}

func teamItems(t identity.Team) (main, name teamItem) {
	main = teamItem{PK: teamPK(t.ID), SK: skTeam, GSI1PK: gsiTeams, GSI1SK: t.ID, Type: "Team",
		ID: t.ID, Name: t.Name, Description: t.Description, IsDefault: t.IsDefault, CreatedAt: t.CreatedAt}
	name = main
	name.PK, name.SK, name.GSI1PK, name.GSI1SK, name.Type = teamNamePK(strings.ToLower(t.Name)), skTeamName, "", "", "TeamName"
	return main, name
}

func put(table string, item any, cond string) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	p := &types.Put{TableName: aws.String(table), Item: av}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
	}
	return types.TransactWriteItem{Put: p}, nil
}

func del(table, pk, sk, cond string) types.TransactWriteItem {
	d := &types.Delete{TableName: aws.String(table), Key: key(pk, sk)}
	if cond != "" {
		d.ConditionExpression = aws.String(cond)
	}
	return types.TransactWriteItem{Delete: d}
}

const notExists = "attribute_not_exists(PK)"
const exists = "attribute_exists(PK)"

// transact runs a transaction; onCancel maps the index of a failed
// condition to a domain error.
func (s *Store) transact(ctx context.Context, op string, items []types.TransactWriteItem, onCancel func(i int) error) error {
	_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	if reasons := cancelReasons(err); reasons != nil {
		for i, r := range reasons {
			if r == "ConditionalCheckFailed" && onCancel != nil {
				if e := onCancel(i); e != nil {
					return e
				}
			}
		}
		for _, r := range reasons {
			if r == "TransactionConflict" {
				return &errs.Error{Code: errs.Conflict, Message: "A concurrent change conflicted; retry.", Err: err}
			}
		}
	}
	return mapErr(op, err)
}

// CreateTeam implements identity.Store.
func (s *Store) CreateTeam(ctx context.Context, t identity.Team) error {
	m, n := teamItems(t)
	pm, err := put(s.Table, m, notExists)
	if err != nil {
		return err
	}
	pn, err := put(s.Table, n, notExists)
	if err != nil {
		return err
	}
	return s.transact(ctx, "create team", []types.TransactWriteItem{pm, pn}, func(i int) error {
		return errs.E(errs.Conflict, "A team named %q already exists.", t.Name)
	})
}

// GetTeam implements identity.Store.
func (s *Store) GetTeam(ctx context.Context, id string) (identity.Team, error) {
	var it teamItem
	if err := s.getItem(ctx, teamPK(id), skTeam, &it, "Team "+strconv.Quote(id)); err != nil {
		return identity.Team{}, err
	}
	return it.team(), nil
}

// GetTeamByName implements identity.Store.
func (s *Store) GetTeamByName(ctx context.Context, name string) (identity.Team, error) {
	var it teamItem
	if err := s.getItem(ctx, teamNamePK(strings.ToLower(name)), skTeamName, &it, "Team "+strconv.Quote(name)); err != nil {
		return identity.Team{}, err
	}
	return it.team(), nil
}

// ListTeams implements identity.Store.
func (s *Store) ListTeams(ctx context.Context, ids []string, p identity.Page) ([]identity.Team, string, error) {
	q := query{index: "GSI1", pkName: "GSI1PK", pk: gsiTeams, forward: true, scope: "teams", token: p.Token, limit: p.Limit}
	if ids != nil {
		q.scope = "teams:" + strings.Join(ids, ",")
		if len(ids) == 0 {
			q.filter, q.names = "attribute_not_exists(#none)", map[string]string{"#none": "PK"}
		} else {
			q.names = map[string]string{"#id": "ID"}
			q.values = map[string]types.AttributeValue{}
			var ph []string
			for i, id := range ids {
				k := fmt.Sprintf(":id%d", i)
				q.values[k] = str(id)
				ph = append(ph, k)
			}
			q.filter = "#id IN (" + strings.Join(ph, ",") + ")"
		}
	}
	items, next, err := s.queryPage(ctx, q)
	if err != nil {
		return nil, "", err
	}
	var its []teamItem
	if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
		return nil, "", fmt.Errorf("decode teams: %w", err)
	}
	out := make([]identity.Team, len(its))
	for i, it := range its {
		out[i] = it.team()
	}
	return out, next, nil
}

// UpdateTeam implements identity.Store.
func (s *Store) UpdateTeam(ctx context.Context, old, t identity.Team) error {
	m, n := teamItems(t)
	// Keep the reference count: update attributes instead of replacing the item.
	upd := types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.Table,
		Key:                       key(m.PK, m.SK),
		UpdateExpression:          aws.String("SET #n = :n, Description = :d"),
		ConditionExpression:       aws.String(exists),
		ExpressionAttributeNames:  map[string]string{"#n": "Name"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": str(t.Name), ":d": descAV(t.Description)},
	}}
	items := []types.TransactWriteItem{upd}
	renamed := !strings.EqualFold(old.Name, t.Name)
	if renamed {
		items = append(items, del(s.Table, teamNamePK(strings.ToLower(old.Name)), skTeamName, ""))
		pn, err := put(s.Table, n, notExists)
		if err != nil {
			return err
		}
		items = append(items, pn)
	} else {
		pn, err := put(s.Table, n, "")
		if err != nil {
			return err
		}
		items = append(items, pn)
	}
	return s.transact(ctx, "update team", items, func(i int) error {
		if i == 0 {
			return errs.NotFoundf("Team %q not found.", t.ID)
		}
		return errs.E(errs.Conflict, "A team named %q already exists.", t.Name)
	})
}

func descAV(d *string) types.AttributeValue {
	if d == nil {
		return &types.AttributeValueMemberNULL{Value: true}
	}
	return str(*d)
}

// DeleteTeam implements identity.Store: members leave the team first, then
// the team goes, on condition that no account (or later job) references it.
func (s *Store) DeleteTeam(ctx context.Context, t identity.Team) error {
	var it struct{ Refs int }
	if err := s.getItem(ctx, teamPK(t.ID), skTeam, &it, "Team "+strconv.Quote(t.ID)); err != nil {
		return err
	}
	if it.Refs > 0 {
		return errs.E(errs.Conflict, "Team %q is still used by %d account(s); remove it from them first.", t.Name, it.Refs)
	}
	for {
		res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.Table,
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :m)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(teamPK(t.ID)), ":m": str("MEMBER#")},
			Limit:                     aws.Int32(40),
		})
		if err != nil {
			return mapErr("list team members", err)
		}
		if len(res.Items) == 0 {
			break
		}
		var items []types.TransactWriteItem
		for _, m := range res.Items {
			var mi struct {
				PK, SK string
				UserID int64
			}
			if err := attributevalue.UnmarshalMap(m, &mi); err != nil {
				return fmt.Errorf("decode member: %w", err)
			}
			items = append(items, del(s.Table, mi.PK, mi.SK, ""), types.TransactWriteItem{Update: &types.Update{
				TableName:                 &s.Table,
				Key:                       key(userPK(mi.UserID), skUser),
				UpdateExpression:          aws.String("DELETE Teams :t"),
				ConditionExpression:       aws.String(exists),
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberSS{Value: []string{t.ID}}},
			}})
		}
		if err := s.transact(ctx, "remove team members", items, nil); err != nil {
			return err
		}
	}
	return s.transact(ctx, "delete team", []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:                 &s.Table,
			Key:                       key(teamPK(t.ID), skTeam),
			ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(Refs) OR Refs = :zero)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": &types.AttributeValueMemberN{Value: "0"}},
		}},
		del(s.Table, teamNamePK(strings.ToLower(t.Name)), skTeamName, ""),
	}, func(i int) error {
		return errs.E(errs.Conflict, "Team %q is still in use.", t.Name)
	})
}

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

type memberItem struct {
	PK, SK   string
	Type     string
	TeamID   string
	UserID   int64
	UserName string
	FullName string
}

func memberOf(teamID string, u identity.User) memberItem {
	return memberItem{PK: teamPK(teamID), SK: memberSK(u.ID), Type: "Member", TeamID: teamID, UserID: u.ID, UserName: u.UserName, FullName: u.FullName}
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

// ListTeamUsers implements identity.Store.
func (s *Store) ListTeamUsers(ctx context.Context, teamID string, p identity.Page) ([]identity.User, string, error) {
	items, next, err := s.queryPage(ctx, query{pkName: "PK", pk: teamPK(teamID), skPrefix: "MEMBER#", forward: true,
		scope: "team-users:" + teamID, token: p.Token, limit: p.Limit})
	if err != nil {
		return nil, "", err
	}
	var its []memberItem
	if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
		return nil, "", fmt.Errorf("decode members: %w", err)
	}
	out := make([]identity.User, len(its))
	for i, m := range its {
		out[i] = identity.User{ID: m.UserID, UserName: m.UserName, FullName: m.FullName}
	}
	return out, next, nil
}

// AddTeamUsers implements identity.Store.
func (s *Store) AddTeamUsers(ctx context.Context, teamID string, users []identity.User) error {
	items := []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
		TableName: &s.Table, Key: key(teamPK(teamID), skTeam), ConditionExpression: aws.String(exists),
	}}}
	for _, u := range users {
		pm, err := put(s.Table, memberOf(teamID, u), "")
		if err != nil {
			return err
		}
		items = append(items, pm, types.TransactWriteItem{Update: &types.Update{
			TableName:                 &s.Table,
			Key:                       key(userPK(u.ID), skUser),
			UpdateExpression:          aws.String("ADD Teams :t"),
			ConditionExpression:       aws.String(exists),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberSS{Value: []string{teamID}}},
		}})
	}
	return s.transact(ctx, "add team users", items, func(i int) error {
		if i == 0 {
			return errs.NotFoundf("Team %q not found.", teamID)
		}
		return errs.E(errs.Conflict, "A user was deleted concurrently; retry.")
	})
}

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
	var its []keyItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &its); err != nil {
		return nil, fmt.Errorf("decode keys: %w", err)
	}
	out := make([]identity.Key, len(its))
	for i, it := range its {
		out[i] = it.key()
	}
	return out, nil
}

// RevokeKey implements identity.Store.
func (s *Store) RevokeKey(ctx context.Context, k identity.Key, at time.Time) error {
	ts, err := attributevalue.Marshal(at)
	if err != nil {
		return err
	}
	return s.transact(ctx, "revoke key", []types.TransactWriteItem{
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
	}, func(i int) error { return nil })
}
