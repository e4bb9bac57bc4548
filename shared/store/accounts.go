package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

var _ accounts.Store = (*Store)(nil)

type accountItem struct {
	PK, SK               string
	GSI1PK, GSI1SK       string
	Type                 string
	ID                   string
	Name                 string
	Platform             string
	BaseRegion           string
	RoleArn              string
	ExternalID           string
	Teams                []string `dynamodbav:",stringset,omitempty"`
	ActiveProcessorCount float64
	MaxRIPercentageToUse float64
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

func accountItemOf(a accounts.Account) accountItem {
	return accountItem{PK: accountPK(a.ID), SK: skAccount, GSI1PK: gsiAccounts, GSI1SK: a.ID, Type: "Account",
		ID: a.ID, Name: a.Name, Platform: a.Platform, BaseRegion: a.BaseRegion, RoleArn: a.RoleArn, ExternalID: a.ExternalID,
		Teams: a.Teams, ActiveProcessorCount: a.ActiveProcessorCount, MaxRIPercentageToUse: a.MaxRIPercentageToUse,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func (it accountItem) account() accounts.Account {
	return accounts.Account{ID: it.ID, Name: it.Name, Platform: it.Platform, BaseRegion: it.BaseRegion, RoleArn: it.RoleArn,
		ExternalID: it.ExternalID, Teams: it.Teams, ActiveProcessorCount: it.ActiveProcessorCount,
		MaxRIPercentageToUse: it.MaxRIPercentageToUse, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
}

// teamRef counts (delta +1) or releases (-1) a reference to a team; adding
// one requires the team to exist, which makes account writes check their
// teams atomically.
func (s *Store) teamRef(teamID string, delta int) types.TransactWriteItem {
	return s.ref(teamPK(teamID), skTeam, delta)
}

// CreateAccount implements accounts.Store.
func (s *Store) CreateAccount(ctx context.Context, a accounts.Account) error {
	p, err := put(s.Table, accountItemOf(a), notExists)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{p}
	for _, t := range a.Teams {
		items = append(items, s.teamRef(t, 1))
	}
	return s.transact(ctx, "create account", items, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "Account %q already exists.", a.ID)
		}
		return errs.Field("Teams", fmt.Sprintf("Team %q does not exist.", a.Teams[i-1]))
	})
}

// GetAccount implements accounts.Store.
func (s *Store) GetAccount(ctx context.Context, id string) (accounts.Account, error) {
	var it accountItem
	if err := s.getItemConsistent(ctx, accountPK(id), skAccount, &it, "Account "+strconv.Quote(id)); err != nil {
		return accounts.Account{}, err
	}
	return it.account(), nil
}

// ListAccounts implements accounts.Store.
func (s *Store) ListAccounts(ctx context.Context, teams []string, p identity.Page) ([]accounts.Account, string, error) {
	return listPage(ctx, s, teamQuery(gsiAccounts, "accounts", teams, p), "accounts", accountItem.account)
}

// UpdateAccount implements accounts.Store; team references move with it.
func (s *Store) UpdateAccount(ctx context.Context, old, a accounts.Account) error {
	p, err := put(s.Table, accountItemOf(a), exists)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{p}
	var added []string
	for _, t := range a.Teams {
		if !slices.Contains(old.Teams, t) {
			items = append(items, s.teamRef(t, 1))
			added = append(added, t)
		}
	}
	for _, t := range old.Teams {
		if !slices.Contains(a.Teams, t) {
			items = append(items, s.teamRef(t, -1))
		}
	}
	return s.transact(ctx, "update account", items, func(i int) error {
		if i == 0 {
			return errs.NotFoundf("Account %q not found.", a.ID)
		}
		if i-1 < len(added) {
			return errs.Field("Teams", fmt.Sprintf("Team %q does not exist.", added[i-1]))
		}
		return nil
	})
}

// DeleteAccount implements accounts.Store.
func (s *Store) DeleteAccount(ctx context.Context, a accounts.Account) error {
	items := []types.TransactWriteItem{s.delUnreferenced(accountPK(a.ID), skAccount)}
	for _, t := range a.Teams {
		items = append(items, s.teamRef(t, -1))
	}
	return s.transact(ctx, "delete account", items, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "Account %q is still used by jobs; delete them first.", a.ID)
		}
		return nil
	})
}

// AccountTeams implements accounts.Store: one consistent BatchGetItem per
// 100 ids (a listing page holds at most MaxPageSize = 100 objects, so one
// request per page), projecting only ID and Teams.
func (s *Store) AccountTeams(ctx context.Context, ids []string) (map[string][]string, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids))) // BatchGetItem refuses duplicate keys
	out := make(map[string][]string, len(ids))
	for start := 0; start < len(ids); start += 100 {
		var keys []map[string]types.AttributeValue
		for _, id := range ids[start:min(start+100, len(ids))] {
			keys = append(keys, key(accountPK(id), skAccount))
		}
		pending := map[string]types.KeysAndAttributes{s.Table: {Keys: keys, ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("#i, #t"), ExpressionAttributeNames: map[string]string{"#i": "ID", "#t": "Teams"}}}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 8 {
				return nil, errs.E(errs.Unavailable, "The service is busy; retry shortly.")
			}
			if attempt > 0 {
				time.Sleep(time.Duration(25<<attempt) * time.Millisecond)
			}
			res, err := s.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, mapErr("get accounts' teams", err)
			}
			var its []struct {
				ID    string
				Teams []string `dynamodbav:",stringset,omitempty"`
			}
			if err := attributevalue.UnmarshalListOfMaps(res.Responses[s.Table], &its); err != nil {
				return nil, fmt.Errorf("decode accounts' teams: %w", err)
			}
			for _, it := range its {
				out[it.ID] = it.Teams
			}
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}
