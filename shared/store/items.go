package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

// pageLimit caps a requested page size.
func pageLimit(n int) int32 {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return int32(n)
}

// getItem reads one item into out; errs.NotFound if absent.
func (s *Store) getItem(ctx context.Context, pk, sk string, out any, what string) error {
	return s.get(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: key(pk, sk)}, out, what)
}

// getItemConsistent is getItem with a strongly consistent read, for the
// items whose latest write decides what a caller may see (accounts).
func (s *Store) getItemConsistent(ctx context.Context, pk, sk string, out any, what string) error {
	return s.get(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)}, out, what)
}

func (s *Store) get(ctx context.Context, in *dynamodb.GetItemInput, out any, what string) error {
	res, err := s.DB.GetItem(ctx, in)
	if err != nil {
		return mapErr("get "+what, err)
	}
	if res.Item == nil {
		return errs.NotFoundf("%s not found.", what)
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk},
		"SK": &types.AttributeValueMemberS{Value: sk},
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

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

// delUnreferenced deletes the item at pk, sk if it exists and nothing
// references it (Refs, counted by ref, is absent or 0).
func (s *Store) delUnreferenced(pk, sk string) types.TransactWriteItem {
	d := del(s.Table, pk, sk, "attribute_exists(PK) AND (attribute_not_exists(Refs) OR Refs = :zero)")
	d.Delete.ExpressionAttributeValues = map[string]types.AttributeValue{":zero": &types.AttributeValueMemberN{Value: "0"}}
	return d
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
	reasons := cancelReasons(err)
	if reasons == nil {
		return mapErr(op, err)
	}
	for i, r := range reasons {
		if r == "ConditionalCheckFailed" && onCancel != nil {
			if e := onCancel(i); e != nil {
				return e
			}
		}
	}
	return cancelled(op, reasons, err)
}

// cancelled maps the reasons of a cancelled transaction that onCancel did
// not explain: every one of DynamoDB's cancellation codes is a client's
// conflict or a busy service, never an internal error.
func cancelled(op string, reasons []string, err error) error {
	wrapped := fmt.Errorf("%s: %w", op, err)
	for _, r := range reasons {
		switch r {
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			return &errs.Error{Code: errs.Unavailable, Message: "The service is busy; retry shortly.", Err: wrapped}
		case "ValidationError", "ItemCollectionSizeLimitExceeded":
			return &errs.Error{Code: errs.Invalid, Message: "The request exceeds what can be stored.", Err: wrapped}
		}
	}
	// TransactionConflict, or a condition failed because the object changed
	// under a concurrent request.
	return &errs.Error{Code: errs.Conflict, Message: "A concurrent change conflicted; retry.", Err: wrapped}
}

// query runs one page of a query on the table or an index. scope binds the
// ContinuationToken to this listing.
type query struct {
	index    string // "" for the table
	pkName   string
	pk       string
	filter   string
	names    map[string]string
	values   map[string]types.AttributeValue
	forward  bool
	scope    string
	token    string
	limit    int
	skPrefix string
}

func (s *Store) queryPage(ctx context.Context, q query) ([]map[string]types.AttributeValue, string, error) {
	start, err := s.Tokens.Decode(q.scope, q.token)
	if err != nil {
		return nil, "", err
	}
	names := map[string]string{"#pk": q.pkName}
	values := map[string]types.AttributeValue{":pk": str(q.pk)}
	cond := "#pk = :pk"
	if q.skPrefix != "" {
		names["#sk"] = "SK"
		values[":skp"] = str(q.skPrefix)
		cond += " AND begins_with(#sk, :skp)"
	}
	for k, v := range q.names {
		names[k] = v
	}
	for k, v := range q.values {
		values[k] = v
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.Table,
		KeyConditionExpression:    &cond,
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ExclusiveStartKey:         start,
		Limit:                     aws.Int32(pageLimit(q.limit)),
		ScanIndexForward:          aws.Bool(q.forward),
	}
	if q.index != "" {
		in.IndexName = &q.index
	}
	if q.filter != "" {
		in.FilterExpression = &q.filter
	}
	res, err := s.DB.Query(ctx, in)
	if err != nil {
		return nil, "", mapErr("query "+q.scope, err)
	}
	next, err := s.Tokens.Encode(q.scope, res.LastEvaluatedKey)
	if err != nil {
		return nil, "", err
	}
	return res.Items, next, nil
}

// teamFilter returns a filter keeping items whose Teams attribute holds any
// of teams; nil teams means no filter. An empty non-nil list matches nothing.
func teamFilter(attr string, teams []string) (string, map[string]string, map[string]types.AttributeValue) {
	if teams == nil {
		return "", nil, nil
	}
	if len(teams) == 0 {
		return "attribute_not_exists(#none)", map[string]string{"#none": "PK"}, nil
	}
	names := map[string]string{"#teams": attr}
	values := map[string]types.AttributeValue{}
	expr := ""
	for i, t := range teams {
		k := fmt.Sprintf(":t%d", i)
		values[k] = str(t)
		if i > 0 {
			expr += " OR "
		}
		expr += "contains(#teams, " + k + ")"
	}
	return expr, names, values
}

// collectionQuery is an unfiltered GSI1 collection listing: the objects
// whose team scope is their account's (jobs, projects, runs) are scoped
// after the read, by accounts.Keep.
func collectionQuery(collection, scope string, p identity.Page) query {
	return query{index: "GSI1", pkName: "GSI1PK", pk: collection, forward: true, scope: scope, token: p.Token, limit: p.Limit}
}

// teamQuery is a GSI1 collection listing, filtered by team scope.
func teamQuery(collection, scope string, teams []string, p identity.Page) query {
	f, n, v := teamFilter("Teams", teams)
	return query{index: "GSI1", pkName: "GSI1PK", pk: collection, forward: true, filter: f, names: n, values: v,
		scope: scope + ":" + strings.Join(teams, ","), token: p.Token, limit: p.Limit}
}

// listPage runs one page of a query and decodes its items with conv.
func listPage[I, T any](ctx context.Context, s *Store, q query, what string, conv func(I) T) ([]T, string, error) {
	items, next, err := s.queryPage(ctx, q)
	if err != nil {
		return nil, "", err
	}
	out, err := decode(items, what, conv)
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// decode unmarshals items as I and converts each with conv.
func decode[I, T any](items []map[string]types.AttributeValue, what string, conv func(I) T) ([]T, error) {
	var its []I
	if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	out := make([]T, len(its))
	for i, it := range its {
		out[i] = conv(it)
	}
	return out, nil
}

// ref counts (delta +1) or releases (-1) a reference to the item at pk, sk
// (a team, an account, a project): adding one requires the item to exist,
// so the write that references it checks it in the same transaction, and
// deleting the item requires Refs = 0.
func (s *Store) ref(pk, sk string, delta int) types.TransactWriteItem {
	u := &types.Update{
		TableName:                 &s.Table,
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("ADD Refs :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberN{Value: strconv.Itoa(delta)}},
	}
	if delta > 0 {
		u.ConditionExpression = aws.String(exists)
	}
	return types.TransactWriteItem{Update: u}
}
