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
	NameKey        string `dynamodbav:",omitempty"`
	Description    *string
	IsDefault      bool
	CreatedAt      time.Time
}

func (t teamItem) team() identity.Team {
	key := t.NameKey
	if key == "" {
		// A team written before name keys (issue 7) holds the key its
		// lower-cased name gave; a rename frees that one.
		key = strings.ToLower(t.Name)
	}
	return identity.Team{ID: t.ID, Name: t.Name, NameKey: key, Description: t.Description, IsDefault: t.IsDefault, CreatedAt: t.CreatedAt}
}

func teamItems(t identity.Team) (main, name teamItem) {
	if t.NameKey == "" {
		// A caller that did not set the key (the service always does) gets
		// the one names had before name keys, never an empty TEAMNAME#.
		t.NameKey = strings.ToLower(t.Name)
	}
	main = teamItem{PK: teamPK(t.ID), SK: skTeam, GSI1PK: gsiTeams, GSI1SK: t.ID, Type: "Team",
		ID: t.ID, Name: t.Name, NameKey: t.NameKey, Description: t.Description, IsDefault: t.IsDefault, CreatedAt: t.CreatedAt}
	name = main
	name.PK, name.SK, name.GSI1PK, name.GSI1SK, name.Type = teamNamePK(t.NameKey), skTeamName, "", "", "TeamName"
	return main, name
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
func (s *Store) GetTeamByName(ctx context.Context, nameKey string) (identity.Team, error) {
	var it teamItem
	if err := s.getItem(ctx, teamNamePK(nameKey), skTeamName, &it, "Team "+strconv.Quote(nameKey)); err != nil {
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
	return listPage(ctx, s, q, "teams", teamItem.team)
}

// UpdateTeam implements identity.Store.
func (s *Store) UpdateTeam(ctx context.Context, old, t identity.Team) error {
	m, n := teamItems(t)
	// Keep the reference count: update attributes instead of replacing the item.
	upd := types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.Table,
		Key:                       key(m.PK, m.SK),
		UpdateExpression:          aws.String("SET #n = :n, NameKey = :k, Description = :d"),
		ConditionExpression:       aws.String(exists),
		ExpressionAttributeNames:  map[string]string{"#n": "Name"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": str(t.Name), ":k": str(t.NameKey), ":d": descAV(t.Description)},
	}}
	items := []types.TransactWriteItem{upd}
	if old.NameKey != t.NameKey {
		items = append(items, del(s.Table, teamNamePK(old.NameKey), skTeamName, ""))
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
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(teamPK(t.ID)), ":m": str(memberPrefix)},
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
		s.delUnreferenced(teamPK(t.ID), skTeam),
		del(s.Table, teamNamePK(t.NameKey), skTeamName, ""),
	}, func(i int) error {
		return errs.E(errs.Conflict, "Team %q is still in use.", t.Name)
	})
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

// ListTeamUsers implements identity.Store.
func (s *Store) ListTeamUsers(ctx context.Context, teamID string, p identity.Page) ([]identity.User, string, error) {
	return listPage(ctx, s, query{pkName: "PK", pk: teamPK(teamID), skPrefix: memberPrefix, forward: true,
		scope: "team-users:" + teamID, token: p.Token, limit: p.Limit}, "members", func(m memberItem) identity.User {
		return identity.User{ID: m.UserID, UserName: m.UserName, FullName: m.FullName}
	})
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

// RemoveTeamUser implements identity.Store: the member item and the team in
// the user's Teams go together (the user item's set loses its attribute
// when the last team goes, which reads back as no team).
func (s *Store) RemoveTeamUser(ctx context.Context, teamID string, u identity.User) error {
	return s.transact(ctx, "remove team user", []types.TransactWriteItem{
		del(s.Table, teamPK(teamID), memberSK(u.ID), exists),
		{Update: &types.Update{
			TableName:                 &s.Table,
			Key:                       key(userPK(u.ID), skUser),
			UpdateExpression:          aws.String("DELETE Teams :t"),
			ConditionExpression:       aws.String("contains(Teams, :id)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberSS{Value: []string{teamID}}, ":id": str(teamID)},
		}},
	}, func(int) error {
		return errs.NotFoundf("User %q is not a member of team %q.", u.UserName, teamID)
	})
}
