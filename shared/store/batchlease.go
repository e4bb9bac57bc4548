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
)

// The dispatch lease of a batch, and batched writes of its jobs.

// leaseNames are the lease's attributes.
var leaseNames = map[string]string{"#h": "LeaseHolder", "#u": "LeaseUntil"}

// Lease implements batches.Store.
func (s *Store) Lease(ctx context.Context, id, holder string, now time.Time, d time.Duration) (bool, error) {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: key(batchPK(id), skBatch),
		UpdateExpression:         aws.String("SET #h = :h, #u = :u"),
		ConditionExpression:      aws.String("attribute_exists(PK) AND (attribute_not_exists(#u) OR #u < :now OR #h = :h)"),
		ExpressionAttributeNames: leaseNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(holder), ":u": num(now.Add(d).UnixMilli()),
			":now": num(now.UnixMilli())},
	})
	if !isConditionFailed(err) {
		return false, mapErr("lease batch "+id, err)
	}
	var it struct{ PK string }
	if err := s.getItemConsistent(ctx, batchPK(id), skBatch, &it, "Batch "+strconv.Quote(id)); err != nil {
		return false, err
	}
	return true, nil
}

// SetSubmitting implements batches.Store.
func (s *Store) SetSubmitting(ctx context.Context, id, holder string, submitting []int, release bool) error {
	var set, remove []string
	values := map[string]types.AttributeValue{":h": str(holder)}
	if len(submitting) > 0 {
		av, err := attributevalue.Marshal(submitting)
		if err != nil {
			return err
		}
		set, values[":s"] = append(set, "Submitting = :s"), av
	} else {
		remove = append(remove, "Submitting")
	}
	if release {
		remove = append(remove, "#h", "#u")
	}
	expr := ""
	if len(set) > 0 {
		expr = "SET " + strings.Join(set, ", ") + " "
	}
	if len(remove) > 0 {
		expr += "REMOVE " + strings.Join(remove, ", ")
	}
	names := map[string]string{"#h": "LeaseHolder"}
	if release {
		names = leaseNames
	}
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: key(batchPK(id), skBatch), UpdateExpression: &expr,
		ConditionExpression: aws.String("#h = :h"), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		if release {
			return nil // deleted, or the lease expired and was taken over
		}
		return errs.E(errs.Conflict, "The dispatch lease of batch %s was lost.", id)
	}
	return mapErr("record submitting of "+id, err)
}

// batchWrite writes reqs 25 per BatchWriteItem, resending unprocessed
// items (each resend is a request, as the bench counts it).
func (s *Store) batchWrite(ctx context.Context, op string, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		pending := map[string][]types.WriteRequest{s.Table: reqs[:n]}
		for try := 0; len(pending[s.Table]) > 0; try++ {
			if try > 0 {
				if err := sleep(ctx, backoff(try)); err != nil {
					return err
				}
			}
			res, err := s.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return mapErr(op, err)
			}
			pending = res.UnprocessedItems
			if try > 10 && len(pending[s.Table]) > 0 {
				return &errs.Error{Code: errs.Unavailable, Message: "The service is busy; retry shortly.", Err: fmt.Errorf("%s: unprocessed items", op)}
			}
		}
		reqs = reqs[n:]
	}
	return nil
}

func backoff(try int) time.Duration {
	return min(time.Duration(1<<min(try, 8))*10*time.Millisecond, 2*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
