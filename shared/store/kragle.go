package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/kragle"
)

var _ kragle.Store = (*Store)(nil)

type scheduleItem struct {
	PK, SK, Type   string
	GSI1PK, GSI1SK string
	kragle.Schedule
}

func scheduleItemOf(sc kragle.Schedule) scheduleItem {
	return scheduleItem{PK: schedulePK(sc.ID), SK: skSchedule, Type: "Schedule", GSI1PK: gsiSchedules, GSI1SK: padID(sc.ID), Schedule: sc}
}

// NextNumber implements kragle.Store: Kragle's integer ids, one counter
// each (an ADD on the counter item is atomic).
func (s *Store) NextNumber(ctx context.Context, counter string) (int64, error) {
	res, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(counterPK(counter), skCounter),
		UpdateExpression:          aws.String("ADD N :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, mapErr("next "+counter+" number", err)
	}
	var out struct{ N int64 }
	if err := attributevalue.UnmarshalMap(res.Attributes, &out); err != nil {
		return 0, fmt.Errorf("decode counter %s: %w", counter, err)
	}
	return out.N, nil
}

// CreateSchedule implements kragle.Store.
func (s *Store) CreateSchedule(ctx context.Context, sc kragle.Schedule) error {
	return s.putSchedule(ctx, sc, notExists)
}

// PutSchedule implements kragle.Store: an UpdateItem of the schedule's
// members, so the Refs its jobs count on it stay.
func (s *Store) PutSchedule(ctx context.Context, sc kragle.Schedule) error {
	av, err := attributevalue.MarshalMap(struct {
		Name                *string
		Once                bool
		Config              any
		ConfigAt, UpdatedAt any
	}{sc.Name, sc.Once, sc.Config, sc.ConfigAt, sc.UpdatedAt})
	if err != nil {
		return fmt.Errorf("encode schedule %d: %w", sc.ID, err)
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var set []string
	for k, v := range av {
		names["#"+k], values[":"+k] = k, v
		set = append(set, "#"+k+" = :"+k)
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Table, Key: key(schedulePK(sc.ID), skSchedule),
		UpdateExpression: aws.String("SET " + strings.Join(set, ", ")), ConditionExpression: aws.String(exists),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values})
	if isConditionFailed(err) {
		return errs.NotFoundf("Schedule %d not found.", sc.ID)
	}
	return mapErr(fmt.Sprintf("update schedule %d", sc.ID), err)
}

func (s *Store) putSchedule(ctx context.Context, sc kragle.Schedule, cond string) error {
	av, err := attributevalue.MarshalMap(scheduleItemOf(sc))
	if err != nil {
		return fmt.Errorf("encode schedule %d: %w", sc.ID, err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: av, ConditionExpression: aws.String(cond)})
	if isConditionFailed(err) {
		return errs.E(errs.Conflict, "Schedule %d already exists.", sc.ID)
	}
	return mapErr(fmt.Sprintf("put schedule %d", sc.ID), err)
}

// GetSchedule implements kragle.Store.
func (s *Store) GetSchedule(ctx context.Context, id int64) (kragle.Schedule, error) {
	var it scheduleItem
	if err := s.getItemConsistent(ctx, schedulePK(id), skSchedule, &it, fmt.Sprintf("Schedule %d", id)); err != nil {
		return kragle.Schedule{}, err
	}
	return it.Schedule, nil
}

// ListSchedules implements kragle.Store: the whole collection, by id.
func (s *Store) ListSchedules(ctx context.Context) ([]kragle.Schedule, error) {
	items, err := s.queryAll(ctx, gsiSchedules, "schedules")
	if err != nil {
		return nil, err
	}
	return decode(items, "schedules", func(it scheduleItem) kragle.Schedule { return it.Schedule })
}

// DeleteSchedule implements kragle.Store.
func (s *Store) DeleteSchedule(ctx context.Context, id int64) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.Table, Key: key(schedulePK(id), skSchedule),
		ConditionExpression:       aws.String(exists + " AND (attribute_not_exists(Refs) OR Refs = :zero)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0)}})
	if isConditionFailed(err) {
		if _, gerr := s.GetSchedule(ctx, id); gerr != nil {
			return gerr
		}
		return errs.E(errs.Conflict, "Schedule %d is used by a job; delete the job or move it to another schedule first.", id)
	}
	return mapErr(fmt.Sprintf("delete schedule %d", id), err)
}

// queryAll reads every item of a GSI1 collection, in GSI1SK order.
func (s *Store) queryAll(ctx context.Context, collection, what string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{
		TableName: &s.Table, IndexName: aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(collection)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapErr("list "+what, err)
		}
		out = append(out, page.Items...)
	}
	return out, nil
}
