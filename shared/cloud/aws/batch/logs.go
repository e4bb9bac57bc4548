package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/batchplane/batchplane/shared/cloud"
)

// emptyPages bounds how many empty pages Logs reads past: GetLogEvents may
// answer an empty page with a new token before the stream's end.
const emptyPages = 5

// Logs implements cloud.Batch with CloudWatch Logs' GetLogEvents on
// LogGroup and the job's stream, oldest first. GetLogEvents marks the end
// of a stream by answering the token it was given; next is then "". A
// stream that does not exist yet (the job has not started) is
// cloud.ErrNotFound.
func (b *Batch) Logs(ctx context.Context, t cloud.Target, logID, token string, limit int) ([]cloud.LogLine, string, error) {
	c := b.for_(t)
	if limit <= 0 || limit > 10000 {
		limit = 10000 // GetLogEvents' maximum
	}
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(LogGroup), LogStreamName: aws.String(logID),
		StartFromHead: aws.Bool(true), Limit: aws.Int32(int32(limit))}
	for page := 0; page < emptyPages; page++ {
		if token != "" {
			in.NextToken = aws.String(token)
		}
		var out *cloudwatchlogs.GetLogEventsOutput
		err := b.retry(ctx, func() error {
			var err error
			out, err = c.logs.GetLogEvents(ctx, in)
			return err
		})
		var api smithy.APIError
		if err != nil && in.NextToken != nil && errors.As(err, &api) && api.ErrorCode() == "InvalidParameterException" {
			// The token is the caller's next_token: one CloudWatch did
			// not issue is their mistake (a 400), not the server's.
			return nil, "", fmt.Errorf("get log events of %s: %w (%v)", logID, cloud.ErrBadLogToken, err)
		}
		if err != nil {
			return nil, "", mapErr("get log events of "+logID, err)
		}
		next := aws.ToString(out.NextForwardToken)
		lines := make([]cloud.LogLine, 0, len(out.Events))
		for _, e := range out.Events {
			lines = append(lines, cloud.LogLine{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), Message: aws.ToString(e.Message)})
		}
		if next == token || next == "" {
			return lines, "", nil // the end of the stream, for now
		}
		if len(lines) > 0 {
			return lines, next, nil
		}
		token = next
	}
	return nil, token, nil
}
