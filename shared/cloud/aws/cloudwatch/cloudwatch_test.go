package cloudwatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/batchplane/batchplane/shared/cloud/aws/awstest"
)

// TestAverageCPU: one CPUUtilization query per instance, pages followed,
// every datapoint averaged; no datapoints is not ok.
func TestAverageCPU(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ids    []string
		pages  [][]float64
		want   float64
		wantOK bool
		calls  int
	}{
		{name: "two pages", ids: []string{"i-1", "i-2"}, pages: [][]float64{{10, 20}, {60}}, want: 30, wantOK: true, calls: 2},
		{name: "no datapoints", ids: []string{"i-1"}, pages: [][]float64{{}}, calls: 1},
		{name: "no instances", calls: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := 0
			c := &awstest.Capture{Respond: func(op string, _ any) (any, error) {
				if op != "GetMetricData" || page >= len(tc.pages) {
					return nil, errors.New("unexpected " + op)
				}
				out := &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{{Values: tc.pages[page]}}}
				if page++; page < len(tc.pages) {
					out.NextToken = aws.String("more")
				}
				return out, nil
			}}
			now := time.Now()
			avg, ok, err := New(awstest.Provider(c)).AverageCPU(context.Background(), awstest.Target, tc.ids, now.Add(-time.Hour), now)
			if err != nil || avg != tc.want || ok != tc.wantOK || len(c.Ops()) != tc.calls {
				t.Fatalf("avg %v ok %v err %v after %d calls, want %v %v after %d", avg, ok, err, len(c.Ops()), tc.want, tc.wantOK, tc.calls)
			}
			if tc.calls == 0 {
				return
			}
			in := c.Input(0).(*cloudwatch.GetMetricDataInput)
			if len(in.MetricDataQueries) != len(tc.ids) {
				t.Fatalf("queries %d, want one per instance", len(in.MetricDataQueries))
			}
			for i, q := range in.MetricDataQueries {
				m := q.MetricStat.Metric
				if aws.ToString(m.MetricName) != "CPUUtilization" || aws.ToString(m.Namespace) != "AWS/EC2" || aws.ToString(m.Dimensions[0].Value) != tc.ids[i] {
					t.Errorf("query %d: %+v", i, m)
				}
			}
		})
	}
}
