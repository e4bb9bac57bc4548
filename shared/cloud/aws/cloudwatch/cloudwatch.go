// Package cloudwatch implements cloud.Metrics on customers' accounts with
// CloudWatch. It is a package of its own so that only the functions that
// read utilisation (runs' right-size advice, the run workflow) link it.
package cloudwatch

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/batchplane/batchplane/shared/cloud"
	cloudaws "github.com/batchplane/batchplane/shared/cloud/aws"
)

var _ cloud.Metrics = (*Metrics)(nil)

// Metrics implements cloud.Metrics.
type Metrics struct {
	cw *cloudaws.Clients[*cloudwatch.Client]
}

// New returns the metrics of the targets p configures (cloudaws.New).
func New(p cloudaws.Configs) *Metrics {
	return &Metrics{cw: cloudaws.NewClients[*cloudwatch.Client](p)}
}

func newClient(cfg aws.Config) *cloudwatch.Client { return cloudwatch.NewFromConfig(cfg) }

// AverageCPU implements cloud.Metrics with CloudWatch's AWS/EC2
// CPUUtilization averages of each instance, averaged.
func (m *Metrics) AverageCPU(ctx context.Context, t cloud.Target, ids []string, from, to time.Time) (float64, bool, error) {
	if len(ids) == 0 {
		return 0, false, nil
	}
	var q []cwtypes.MetricDataQuery
	for i, id := range ids {
		q = append(q, cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("m%d", i)), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(id)}}},
			Period: aws.Int32(300), Stat: aws.String("Average")}})
	}
	var sum float64
	n := 0
	pg := cloudwatch.NewGetMetricDataPaginator(m.cw.For(t, newClient), &cloudwatch.GetMetricDataInput{StartTime: &from, EndTime: &to, MetricDataQueries: q})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return 0, false, cloudaws.Err("get metric data", err)
		}
		for _, r := range page.MetricDataResults {
			for _, v := range r.Values {
				sum += v
				n++
			}
		}
	}
	if n == 0 {
		return 0, false, nil
	}
	return sum / float64(n), true, nil
}
