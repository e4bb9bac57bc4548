package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/runs"
)

var _ runs.Store = (*Store)(nil)

type runItem struct {
	PK, SK, Type   string
	GSI1PK, GSI1SK string
	GSI2PK, GSI2SK string
	runs.Run
}

func runItemOf(r runs.Run) runItem {
	return runItem{PK: runPK(r.ID), SK: skRun, Type: "Run",
		GSI1PK: gsiRuns, GSI1SK: runsSK(r.RunDate, r.ID),
		GSI2PK: jobPKOf(r.JobID), GSI2SK: runOfJobSK(r.RunDate), Run: r}
}

type runReqItem struct {
	PK, SK, Type string
	runs.RunRequest
}

// CreateRunRequest implements runs.Store: request, run and the job's
// executing mark in one transaction, so concurrent executes start one run.
func (s *Store) CreateRunRequest(ctx context.Context, req runs.RunRequest, r runs.Run) error {
	preq, err := put(s.Table, runReqItem{PK: runReqPK(req.ID), SK: skRunReq, Type: "RunRequest", RunRequest: req}, notExists)
	if err != nil {
		return err
	}
	prun, err := put(s.Table, runItemOf(r), notExists)
	if err != nil {
		return err
	}
	lock := types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.Table,
		Key:                       key(jobPKOf(r.JobID), "JOB"),
		UpdateExpression:          aws.String("SET ActiveRunID = :r ADD Runs :one"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(ActiveRunID) OR ActiveRunID = :empty)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": str(r.ID), ":one": &types.AttributeValueMemberN{Value: "1"}, ":empty": str("")},
	}}
	active, err := put(s.Table, map[string]any{"PK": pkActiveRuns, "SK": r.ID, "Type": "ActiveRun"}, "")
	if err != nil {
		return err
	}
	return s.transact(ctx, "create run request", []types.TransactWriteItem{preq, prun, lock, active}, func(i int) error {
		if i == 2 {
			return errs.E(errs.Conflict, "Job %s is already executing; stop its run first.", r.JobID)
		}
		return errs.E(errs.Conflict, "Run request %s already exists.", req.ID)
	})
}

// GetRunRequest implements runs.Store.
func (s *Store) GetRunRequest(ctx context.Context, id string) (runs.RunRequest, error) {
	var it runReqItem
	if err := s.getItem(ctx, runReqPK(id), skRunReq, &it, fmt.Sprintf("Run request %q", id)); err != nil {
		return runs.RunRequest{}, err
	}
	return it.RunRequest, nil
}

// GetRun implements runs.Store.
func (s *Store) GetRun(ctx context.Context, id string) (runs.Run, error) {
	var it runItem
	if err := s.getItem(ctx, runPK(id), skRun, &it, fmt.Sprintf("Run %q", id)); err != nil {
		return runs.Run{}, err
	}
	return it.Run, nil
}

// ListRuns implements runs.Store.
func (s *Store) ListRuns(ctx context.Context, p identity.Page) ([]runs.Run, string, error) {
	q := collectionQuery(gsiRuns, "runs", p)
	q.forward = false // newest first
	return listPage(ctx, s, q, "runs", func(it runItem) runs.Run { return it.Run })
}

func (s *Store) putRunVersioned(r *runs.Run) (types.TransactWriteItem, error) {
	next := *r
	next.Version++
	av, err := attributevalue.MarshalMap(runItemOf(next))
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                 &s.Table,
		Item:                      av,
		ConditionExpression:       aws.String("attribute_exists(PK) AND Version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(r.Version)}},
	}}, nil
}

// UpdateRun implements runs.Store with optimistic locking.
func (s *Store) UpdateRun(ctx context.Context, r *runs.Run) error {
	p, err := s.putRunVersioned(r)
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: p.Put.Item,
		ConditionExpression: p.Put.ConditionExpression, ExpressionAttributeValues: p.Put.ExpressionAttributeValues})
	if isConditionFailed(err) {
		return errs.E(errs.Conflict, "Run %s changed concurrently.", r.ID)
	}
	if err != nil {
		return mapErr("update run", err)
	}
	r.Version++
	return nil
}

// FinishRun implements runs.Store.
func (s *Store) FinishRun(ctx context.Context, r *runs.Run) error {
	p, err := s.putRunVersioned(r)
	if err != nil {
		return err
	}
	free := types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.Table,
		Key:                       key(jobPKOf(r.JobID), "JOB"),
		UpdateExpression:          aws.String("SET ActiveRunID = :empty"),
		ConditionExpression:       aws.String("ActiveRunID = :r"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": str(r.ID), ":empty": str("")},
	}}
	done := del(s.Table, pkActiveRuns, r.ID, "")
	err = s.transact(ctx, "finish run", []types.TransactWriteItem{p, free, done}, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "Run %s changed concurrently.", r.ID)
		}
		return nil
	})
	if reasons := cancelReasons(err); len(reasons) == 3 && reasons[0] == "None" && reasons[1] == "ConditionalCheckFailed" {
		// The job no longer points at this run (freed already, or the job
		// was deleted): finish the run alone.
		if err := s.UpdateRun(ctx, r); err != nil {
			return err
		}
		_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.Table, Key: key(pkActiveRuns, r.ID)})
		return mapErr("finish run", err)
	}
	if err != nil {
		return err
	}
	r.Version++
	return nil
}

// DeleteRun implements runs.Store.
func (s *Store) DeleteRun(ctx context.Context, r runs.Run) error {
	var keys []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.Table,
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(runPK(r.ID))},
			ProjectionExpression:      aws.String("PK, SK, InstanceID"),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return mapErr("list run items", err)
		}
		for _, it := range res.Items {
			keys = append(keys, map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]})
			if id, ok := it["InstanceID"].(*types.AttributeValueMemberS); ok {
				keys = append(keys, key(instIndexPK(id.Value), skInst))
			}
		}
		if res.LastEvaluatedKey == nil {
			break
		}
		start = res.LastEvaluatedKey
	}
	keys = append(keys, key(runReqPK(r.RequestID), skRunReq))
	for i := 0; i < len(keys); i += 25 {
		end := min(i+25, len(keys))
		var reqs []types.WriteRequest
		for _, k := range keys[i:end] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		pending := map[string][]types.WriteRequest{s.Table: reqs}
		for attempt := 0; len(pending) > 0 && attempt < 8; attempt++ {
			res, err := s.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return mapErr("delete run", err)
			}
			pending = res.UnprocessedItems
			if len(pending) > 0 {
				time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
			}
		}
		if len(pending) > 0 {
			return errs.E(errs.Unavailable, "Deleting run %s was throttled; retry.", r.ID)
		}
	}
	return nil
}
