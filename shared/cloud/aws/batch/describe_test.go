package batch

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/batchplane/batchplane/shared/cloud"
)

// jobs answers DescribeJobs with the recorded detail of each known id.
func jobs(known map[string]types.JobDetail) func(op string, in any) (any, error) {
	return func(op string, in any) (any, error) {
		switch op {
		case "DescribeJobs":
			out := &batch.DescribeJobsOutput{}
			for _, id := range in.(*batch.DescribeJobsInput).Jobs {
				if j, ok := known[id]; ok {
					out.Jobs = append(out.Jobs, j)
				}
			}
			return out, nil
		case "CancelJob":
			return &batch.CancelJobOutput{}, nil
		case "TerminateJob":
			return &batch.TerminateJobOutput{}, nil
		}
		return nil, errors.New("unexpected " + op)
	}
}

func detail(id string, status types.JobStatus, index int) types.JobDetail {
	return types.JobDetail{JobId: aws.String(id), JobName: aws.String(fmt.Sprintf("B-1-%d-1", index)), Status: status,
		CreatedAt: aws.Int64(1764576000000), JobQueue: aws.String(JobQueue),
		Tags: map[string]string{cloud.TagBatch: "B-1", cloud.TagBatchIndex: fmt.Sprint(index), cloud.TagBatchAttempt: "1"}}
}

func TestCancel(t *testing.T) {
	known := map[string]types.JobDetail{}
	statuses := []types.JobStatus{types.JobStatusSubmitted, types.JobStatusPending, types.JobStatusRunnable, types.JobStatusStarting,
		types.JobStatusRunning, types.JobStatusSucceeded, types.JobStatusFailed}
	var ids []string
	for i := 0; i < 250; i++ {
		id := fmt.Sprintf("j-%03d", i)
		known[id] = detail(id, statuses[i%len(statuses)], i)
		ids = append(ids, id)
	}
	ids = append(ids, "j-gone") // AWS Batch forgot it: nothing to do
	c := &capture{respond: jobs(known)}
	if err := newBatch(t, c).Cancel(context.Background(), target, ids, "batch deleted"); err != nil {
		t.Fatal(err)
	}
	var chunks []int
	for _, in := range c.inputs("DescribeJobs") {
		chunks = append(chunks, len(in.(*batch.DescribeJobsInput).Jobs))
	}
	if !reflect.DeepEqual(chunks, []int{100, 100, 51}) {
		t.Fatalf("DescribeJobs chunks %v", chunks)
	}
	acted := map[string]string{}
	for _, in := range c.inputs("CancelJob") {
		x := in.(*batch.CancelJobInput)
		acted[aws.ToString(x.JobId)] = "cancel"
		if aws.ToString(x.Reason) != "batch deleted" {
			t.Errorf("reason %q", aws.ToString(x.Reason))
		}
	}
	for _, in := range c.inputs("TerminateJob") {
		acted[aws.ToString(in.(*batch.TerminateJobInput).JobId)] = "terminate"
	}
	for id, j := range known {
		want := map[types.JobStatus]string{types.JobStatusSubmitted: "cancel", types.JobStatusPending: "cancel", types.JobStatusRunnable: "cancel",
			types.JobStatusStarting: "terminate", types.JobStatusRunning: "terminate"}[j.Status]
		if acted[id] != want {
			t.Errorf("%s (%s): %q, want %q", id, j.Status, acted[id], want)
		}
	}
}

func TestDescribe(t *testing.T) {
	running := detail("j-run", types.JobStatusRunning, 0)
	running.StartedAt = aws.Int64(1764576060000)
	running.Container = &types.ContainerDetail{LogStreamName: aws.String("batchplane-T-1/default/abc")}
	failed := detail("j-fail", types.JobStatusFailed, 1)
	failed.StartedAt, failed.StoppedAt = aws.Int64(1764576060000), aws.Int64(1764576120000)
	failed.StatusReason = aws.String("Essential container in task exited")
	failed.Attempts = []types.AttemptDetail{{Container: &types.AttemptContainerDetail{ExitCode: aws.Int32(2), LogStreamName: aws.String("batchplane-T-1/default/def")}}}
	foreign := types.JobDetail{JobId: aws.String("j-theirs"), JobName: aws.String("nightly"), Status: types.JobStatusRunning}
	c := &capture{respond: jobs(map[string]types.JobDetail{"j-run": running, "j-fail": failed, "j-theirs": foreign})}
	got, err := newBatch(t, c).Describe(context.Background(), target, []string{"j-run", "j-fail", "j-theirs", "j-gone"})
	if err != nil {
		t.Fatal(err)
	}
	start, stop := time.UnixMilli(1764576060000).UTC(), time.UnixMilli(1764576120000).UTC()
	want := []cloud.BatchJobState{
		{BatchID: "B-1", Index: 0, Attempt: 1, ExternalID: "j-run", Status: "RUNNING", At: start, StartedAt: &start, LogID: "batchplane-T-1/default/abc"},
		{BatchID: "B-1", Index: 1, Attempt: 1, ExternalID: "j-fail", Status: "FAILED", At: stop, StartedAt: &start,
			Reason: "Essential container in task exited: exit code 2", LogID: "batchplane-T-1/default/def"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("states\n %+v\nwant\n %+v", got, want)
	}
}

func TestLogs(t *testing.T) {
	ev := func(ms int64, msg string) logtypes.OutputLogEvent {
		return logtypes.OutputLogEvent{Timestamp: aws.Int64(ms), Message: aws.String(msg)}
	}
	pages := map[string]*cloudwatchlogs.GetLogEventsOutput{
		"":    {Events: []logtypes.OutputLogEvent{ev(1000, "start"), ev(2000, "digest abc")}, NextForwardToken: aws.String("f/1")},
		"f/1": {NextForwardToken: aws.String("f/2")}, // an empty page before the stream's end
		"f/2": {Events: []logtypes.OutputLogEvent{ev(3000, "done")}, NextForwardToken: aws.String("f/3")},
		"f/3": {NextForwardToken: aws.String("f/3")}, // the same token: the end
	}
	respond := func(op string, in any) (any, error) {
		x := in.(*cloudwatchlogs.GetLogEventsInput)
		if aws.ToString(x.LogStreamName) == "missing" {
			return nil, apiErr("ResourceNotFoundException", "The specified log stream does not exist.")
		}
		if aws.ToString(x.NextToken) == "forged" {
			return nil, apiErr("InvalidParameterException", "The specified nextToken is invalid.")
		}
		if aws.ToString(x.LogGroupName) != LogGroup || !aws.ToBool(x.StartFromHead) {
			return nil, fmt.Errorf("request %+v", x)
		}
		return pages[aws.ToString(x.NextToken)], nil
	}
	c := &capture{respond: respond}
	b := newBatch(t, c)
	var all []string
	token, calls := "", 0
	for {
		lines, next, err := b.Logs(context.Background(), target, "batchplane-T-1/default/abc", token, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			all = append(all, fmt.Sprintf("%d %s", l.Time.UnixMilli(), l.Message))
		}
		if calls++; next == "" || calls > 5 {
			break
		}
		token = next
	}
	if want := []string{"1000 start", "2000 digest abc", "3000 done"}; !reflect.DeepEqual(all, want) || calls != 3 {
		t.Fatalf("lines %v in %d pages, want %v in 3", all, calls, want)
	}
	if _, _, err := b.Logs(context.Background(), target, "missing", "", 10); !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("missing stream: %v", err)
	}
	if _, _, err := b.Logs(context.Background(), target, "batchplane-T-1/default/abc", "forged", 10); !errors.Is(err, cloud.ErrBadLogToken) {
		t.Fatalf("a token CloudWatch did not issue: %v, want cloud.ErrBadLogToken (a 400)", err)
	}
}

func TestErrors(t *testing.T) {
	c := &capture{respond: func(string, any) (any, error) { return nil, apiErr("AccessDeniedException", "not authorized") }}
	b := newBatch(t, c)
	ctx := context.Background()
	s := spec("B-1", 0)
	_, err := b.Submit(ctx, target, s)
	if !errors.Is(err, cloud.ErrAccessDenied) {
		t.Errorf("submit: %v", err)
	}
	if _, err := b.Describe(ctx, target, []string{"j-1"}); !errors.Is(err, cloud.ErrAccessDenied) {
		t.Errorf("describe: %v", err)
	}
	if err := b.Cancel(ctx, target, []string{"j-1"}, "x"); !errors.Is(err, cloud.ErrAccessDenied) {
		t.Errorf("cancel: %v", err)
	}
	if err := b.EnsureTool(ctx, target, tool); !errors.Is(err, cloud.ErrAccessDenied) {
		t.Errorf("ensure tool: %v", err)
	}
	if len(c.sleeps) != 0 {
		t.Errorf("denied calls were retried: %v", c.sleeps)
	}
}
