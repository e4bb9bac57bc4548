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

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/runs"
)

var _ runs.Store = (*Store)(nil)

func runReqPK(id string) string    { return "RUNREQ#" + id }
func runPK(id string) string       { return "RUN#" + id }
func instSK(id string) string      { return "INST#" + id }
func instIndexPK(id string) string { return "INSTANCE#" + id }
func jobPKOf(id string) string     { return "JOB#" + id }

const (
	skRunReq  = "RUNREQ"
	skRun     = "RUN"
	skInst    = "INSTANCE"
	gsiRuns   = "RUNS"
	logPrefix = "LOG#"
	// pkActiveRuns partitions one marker per unfinished run, so the safety
	// sweep reads active runs with one Query, however many runs ever ran.
	pkActiveRuns = "ACTIVERUNS"
)

func nanos(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

type runItem struct {
	PK, SK, Type   string
	GSI1PK, GSI1SK string
	GSI2PK, GSI2SK string
	runs.Run
}

func runItemOf(r runs.Run) runItem {
	return runItem{PK: runPK(r.ID), SK: skRun, Type: "Run",
		GSI1PK: gsiRuns, GSI1SK: nanos(r.RunDate) + "#" + r.ID,
		GSI2PK: jobPKOf(r.JobID), GSI2SK: "RUN#" + nanos(r.RunDate), Run: r}
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
func (s *Store) ListRuns(ctx context.Context, teams []string, p identity.Page) ([]runs.Run, string, error) {
	q := teamQuery(gsiRuns, "runs", teams, p)
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
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(runPK(runID)), ":p": str("INST#")},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, mapErr("list instances", err)
		}
		var its []instItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &its); err != nil {
			return nil, fmt.Errorf("decode instances: %w", err)
		}
		for _, it := range its {
			out = append(out, it.instance())
		}
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

type logItem struct {
	PK, SK, Type string
	Time         time.Time
	Message      string
	Severity     string
}

// AppendLog implements runs.Store: a marker item per key makes a re-run
// step's line appear once.
func (s *Store) AppendLog(ctx context.Context, runID, k string, l runs.LogLine) error {
	marker, err := put(s.Table, map[string]any{"PK": runPK(runID), "SK": "LOGKEY#" + k, "Type": "LogKey"}, notExists)
	if err != nil {
		return err
	}
	line, err := put(s.Table, logItem{PK: runPK(runID), SK: logPrefix + nanos(l.Time) + "#" + k, Type: "Log",
		Time: l.Time, Message: l.Message, Severity: l.Severity}, "")
	if err != nil {
		return err
	}
	err = s.transact(ctx, "append log", []types.TransactWriteItem{marker, line}, func(i int) error {
		if i == 0 {
			return errs.E(errs.Conflict, "logged already")
		}
		return nil
	})
	if errs.Is(err, errs.Conflict) {
		return nil
	}
	return err
}

// ListLogs implements runs.Store.
func (s *Store) ListLogs(ctx context.Context, runID string, p identity.Page) ([]runs.LogLine, string, error) {
	items, next, err := s.queryPage(ctx, query{pkName: "PK", pk: runPK(runID), skPrefix: logPrefix, forward: false,
		scope: "logs:" + runID, token: p.Token, limit: p.Limit})
	if err != nil {
		return nil, "", err
	}
	var its []logItem
	if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
		return nil, "", fmt.Errorf("decode logs: %w", err)
	}
	out := make([]runs.LogLine, len(its))
	for i, it := range its {
		out[i] = runs.LogLine{Time: it.Time, Message: it.Message, Severity: it.Severity}
	}
	return out, next, nil
}

// ActiveRuns implements runs.Store.
func (s *Store) ActiveRuns(ctx context.Context) ([]string, error) {
	var out []string
	var start map[string]types.AttributeValue
	for {
		res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.Table,
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkActiveRuns)},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, mapErr("active runs", err)
		}
		for _, it := range res.Items {
			if sk, ok := it["SK"].(*types.AttributeValueMemberS); ok {
				out = append(out, sk.Value)
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

const skLease = "LEASE"

// LeaseRun implements runs.Store with a conditional write on the run's
// lease item (apart from the run item, whose versioned puts would drop it).
func (s *Store) LeaseRun(ctx context.Context, runID, holder string, now, until time.Time) (bool, error) {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.Table,
		Key:                      key(runPK(runID), skLease),
		UpdateExpression:         aws.String("SET Holder = :h, LeaseUntil = :until, #t = :type"),
		ConditionExpression:      aws.String("attribute_not_exists(LeaseUntil) OR LeaseUntil < :now OR Holder = :h"),
		ExpressionAttributeNames: map[string]string{"#t": "Type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h": str(holder), ":type": str("RunLease"),
			":until": &types.AttributeValueMemberN{Value: fmt.Sprint(until.UnixNano())},
			":now":   &types.AttributeValueMemberN{Value: fmt.Sprint(now.UnixNano())},
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, mapErr("lease run", err)
	}
	return true, nil
}

// ReleaseRun implements runs.Store.
func (s *Store) ReleaseRun(ctx context.Context, runID, holder string) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(runPK(runID), skLease),
		UpdateExpression:          aws.String("REMOVE Holder, LeaseUntil"),
		ConditionExpression:       aws.String("Holder = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(holder)},
	})
	if isConditionFailed(err) {
		return nil
	}
	return mapErr("release run", err)
}

// MarkDirty implements runs.Store.
func (s *Store) MarkDirty(ctx context.Context, runID string) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.Table,
		Key:                       key(runPK(runID), skLease),
		UpdateExpression:          aws.String("SET Dirty = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
	})
	return mapErr("mark run dirty", err)
}

// TakeDirty implements runs.Store.
func (s *Store) TakeDirty(ctx context.Context, runID string) (bool, error) {
	res, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.Table,
		Key:              key(runPK(runID), skLease),
		UpdateExpression: aws.String("REMOVE Dirty"),
		ReturnValues:     types.ReturnValueUpdatedOld,
	})
	if err != nil {
		return false, mapErr("take dirty", err)
	}
	_, was := res.Attributes["Dirty"]
	return was, nil
}
