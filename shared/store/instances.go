package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/runs"
)

type instItem struct {
	PK, SK, Type     string
	RunID            string
	InstanceID       string
	InstanceType     string
	AvailabilityZone string
	SubnetID         string
	PrivateIP        string
	Spot             bool
	State            string
	Healthy          bool
	LaunchTime       time.Time
	StopTime         *time.Time `dynamodbav:",omitempty"`
	Interrupted      bool
	ReplacedBy       string
	EventNanos       int64
	EventOrder       int64 `dynamodbav:",omitempty"`
}

func (it instItem) instance() runs.Instance {
	in := runs.Instance{InstanceID: it.InstanceID, InstanceType: it.InstanceType, AvailabilityZone: it.AvailabilityZone,
		SubnetID: it.SubnetID, PrivateIP: it.PrivateIP, Spot: it.Spot, State: it.State, Healthy: it.Healthy,
		LaunchTime: it.LaunchTime, StopTime: it.StopTime, Interrupted: it.Interrupted, ReplacedBy: it.ReplacedBy}
	if it.EventNanos > 0 {
		in.EventTime = time.Unix(0, it.EventNanos).UTC()
	}
	return in
}

// PutInstance implements runs.Store.
func (s *Store) PutInstance(ctx context.Context, runID string, in runs.Instance) error {
	it := instItem{PK: runPK(runID), SK: instSK(in.InstanceID), Type: "RunInstance", RunID: runID,
		InstanceID: in.InstanceID, InstanceType: in.InstanceType, AvailabilityZone: in.AvailabilityZone, SubnetID: in.SubnetID,
		PrivateIP: in.PrivateIP, Spot: in.Spot, State: in.State, Healthy: in.Healthy, LaunchTime: in.LaunchTime,
		StopTime: in.StopTime, Interrupted: in.Interrupted, ReplacedBy: in.ReplacedBy}
	if !in.EventTime.IsZero() {
		it.EventNanos = in.EventTime.UnixNano()
		it.EventOrder = runs.EventOrder(in.State, in.EventTime)
	}
	p, err := put(s.Table, it, "")
	if err != nil {
		return err
	}
	idx, err := put(s.Table, map[string]any{"PK": instIndexPK(in.InstanceID), "SK": skInst, "Type": "InstanceIndex", "RunID": runID}, "")
	if err != nil {
		return err
	}
	return s.transact(ctx, "put instance", []types.TransactWriteItem{p, idx}, nil)
}

// ListInstances implements runs.Store.
func (s *Store) ListInstances(ctx context.Context, runID string) ([]runs.Instance, error) {
	var out []runs.Instance
	var start map[string]types.AttributeValue
	for {
		res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.Table,
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(runPK(runID)), ":p": str(instPrefix)},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, mapErr("list instances", err)
		}
		page, err := decode(res.Items, "instances", instItem.instance)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// RunOfInstance implements runs.Store.
func (s *Store) RunOfInstance(ctx context.Context, instanceID string) (string, error) {
	var it struct{ RunID string }
	if err := s.getItem(ctx, instIndexPK(instanceID), skInst, &it, "Instance "+instanceID); err != nil {
		return "", err
	}
	return it.RunID, nil
}

// ApplyInstanceEvent implements runs.Store: the condition on EventNanos
// makes duplicated and reordered events no-ops.
func (s *Store) ApplyInstanceEvent(ctx context.Context, runID, instanceID, state string, interrupted bool, at time.Time) (bool, error) {
	var set []string
	values := map[string]types.AttributeValue{}
	names := map[string]string{}
	cond := "attribute_exists(PK)"
	if state != "" {
		set = append(set, "EventNanos = :t", "EventOrder = :o", "#st = :s")
		values[":t"] = &types.AttributeValueMemberN{Value: fmt.Sprint(at.UnixNano())}
		values[":o"] = &types.AttributeValueMemberN{Value: fmt.Sprint(runs.EventOrder(state, at))}
		names["#st"] = "State"
		values[":s"] = str(state)
		cond += " AND (attribute_not_exists(EventOrder) OR EventOrder < :o)"
		switch state {
		case "shutting-down", "terminated", "stopping", "stopped":
			ts, err := attributevalue.Marshal(at.UTC())
			if err != nil {
				return false, err
			}
			set = append(set, "StopTime = if_not_exists(StopTime, :stop)")
			values[":stop"] = ts
		}
	}
	if interrupted {
		set = append(set, "Interrupted = :true")
		values[":true"] = &types.AttributeValueMemberBOOL{Value: true}
		if state == "" { // a warning alone applies once
			cond += " AND (attribute_not_exists(Interrupted) OR Interrupted <> :true)"
		}
	}
	if len(set) == 0 {
		return false, nil
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(runPK(runID), instSK(instanceID)),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	_, err := s.DB.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, mapErr("apply instance event", err)
	}
	return true, nil
}

// MarkReplaced implements runs.Store.
func (s *Store) MarkReplaced(ctx context.Context, runID, instanceID, by string) (bool, error) {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(runPK(runID), instSK(instanceID)),
		UpdateExpression:          aws.String("SET ReplacedBy = :by"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(ReplacedBy) OR ReplacedBy = :empty)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":by": str(by), ":empty": str("")},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, mapErr("mark replaced", err)
	}
	return true, nil
}
