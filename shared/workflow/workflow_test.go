package workflow_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/cloud"
	cloudlocal "github.com/batchplane/batchplane/shared/cloud/local"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/runs"
	"github.com/batchplane/batchplane/shared/store"
	"github.com/batchplane/batchplane/shared/store/storetest"
	"github.com/batchplane/batchplane/shared/workflow"
)

// executions starts nothing: the test calls the tasks itself.
type executions struct{}

func (executions) Start(context.Context, string, []byte) error  { return nil }
func (executions) Resume(context.Context, string, []byte) error { return nil }

func ptr[T any](v T) *T { return &v }

// harness is a workflow over DynamoDB Local and the local cloud, with an
// Administrator's context and one registered account.
type harness struct {
	st    *store.Store
	lc    *cloudlocal.Cloud
	wf    *workflow.Workflow
	admin context.Context
	acc   accounts.Account
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st := storetest.New(t)
	_, admin := storetest.Admin(t, st)
	acc, err := accounts.NewService(st, st).Create(admin, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"),
		RoleArn: ptr("arn:aws:iam::123456789012:role/batchplane")})
	if err != nil {
		t.Fatalf("account: %v", err)
	}
	lc, err := cloudlocal.New(cloudlocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lc.Close)
	wf := &workflow.Workflow{Runs: st, Jobs: st, Accounts: st, Cloud: lc.Cloud(), Executions: executions{}, Now: time.Now}
	return &harness{st: st, lc: lc, wf: wf, admin: admin, acc: acc}
}

// start creates a job, executes it and provisions the run.
func (h *harness) start(t *testing.T, app string, in jobs.Input) runs.Run {
	t.Helper()
	in.AccountID = &h.acc.ID
	j, err := jobs.NewService(h.st, h.st, h.st, h.lc).Create(h.admin, app, in)
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	rs := &runs.Service{Store: h.st, Jobs: h.st, Accounts: h.st, Executions: executions{}, Now: time.Now, NewID: identity.RandomHex8}
	req, err := rs.Execute(h.admin, j.ID, app)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	runID, err := rs.Check(h.admin, req)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, task := range []workflow.Task{workflow.CreateRun, workflow.Provision} {
		if _, err := task.Run(h.wf, ctx, runs.Input{RunID: runID, RunRequestID: req}); err != nil {
			t.Fatalf("task: %v", err)
		}
	}
	r, err := h.st.GetRun(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// markets counts a run's live instances by market.
func (h *harness) markets(t *testing.T, r runs.Run) (spot, onDemand int) {
	t.Helper()
	ins, err := h.lc.DescribeRun(context.Background(), h.acc.Target(r.Region), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		if in.State != cloud.StateRunning {
			continue
		}
		if in.Market == cloud.Spot {
			spot++
		} else {
			onDemand++
		}
	}
	return spot, onDemand
}

func (h *harness) logs(t *testing.T, runID string) string {
	t.Helper()
	lines, _, err := h.st.ListLogs(context.Background(), runID, identity.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Message + "\n")
	}
	return b.String()
}

// TestSpotShortageFallsBackToOnDemand runs an AMI job on a local cloud with
// no spot capacity for its type: provisioning launches on-demand instead,
// and so does the replacement of a lost instance; with capacity back, the
// next replacement is spot again.
func TestSpotShortageFallsBackToOnDemand(t *testing.T) {
	h := newHarness(t)
	h.lc.SetSpotCapacity("t3.micro", 0)
	r := h.start(t, jobs.AppAMI, jobs.Input{Name: ptr("short"), AmiID: ptr("ami-0123456789abcdef0"), InstanceType: ptr("t3.micro"),
		DesiredInstanceCount: ptr(2), MinOnDemandInstanceCount: ptr(0)})
	if spot, od := h.markets(t, r); spot != 0 || od != 2 {
		t.Fatalf("after provisioning: %d spot, %d on-demand; want 0, 2", spot, od)
	}
	if got := h.logs(t, r.ID); !strings.Contains(got, "Spot capacity for t3.micro is short; launching 2 on-demand instead") {
		t.Fatalf("log lacks the shortage:\n%s", got)
	}

	ctx := context.Background()
	ins, err := h.st.ListInstances(ctx, r.ID)
	if err != nil || len(ins) != 2 {
		t.Fatalf("instances: %v %v", ins, err)
	}
	lost := ins[0].InstanceID
	if err := h.lc.Terminate(ctx, h.acc.Target(r.Region), []string{lost}); err != nil {
		t.Fatal(err)
	}
	if err := h.wf.Reconcile(ctx, r.ID); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if spot, od := h.markets(t, r); spot != 0 || od != 2 {
		t.Fatalf("after a loss in a shortage: %d spot, %d on-demand; want 0, 2", spot, od)
	}
	if got := h.logs(t, r.ID); !strings.Contains(got, "Instance "+lost+" was lost; replaced by") || !strings.Contains(got, "(on-demand)") {
		t.Fatalf("log lacks the on-demand replacement:\n%s", got)
	}

	h.lc.SetSpotCapacity("t3.micro", -1)
	ins, err = h.st.ListInstances(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var next string
	for _, in := range ins {
		if in.Alive() {
			next = in.InstanceID
			break
		}
	}
	if err := h.lc.Terminate(ctx, h.acc.Target(r.Region), []string{next}); err != nil {
		t.Fatal(err)
	}
	if err := h.wf.Reconcile(ctx, r.ID); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if spot, od := h.markets(t, r); spot != 1 || od != 1 {
		t.Fatalf("with capacity back: %d spot, %d on-demand; want 1, 1", spot, od)
	}
}

// TestMinOnDemandFloor provisions MinOnDemandInstanceCount on-demand and
// the rest spot, and replaces a lost on-demand instance on-demand.
func TestMinOnDemandFloor(t *testing.T) {
	h := newHarness(t)
	r := h.start(t, jobs.AppAMI, jobs.Input{Name: ptr("floor"), AmiID: ptr("ami-0123456789abcdef0"), InstanceType: ptr("t3.micro"),
		DesiredInstanceCount: ptr(3), MinOnDemandInstanceCount: ptr(1)})
	if spot, od := h.markets(t, r); spot != 2 || od != 1 {
		t.Fatalf("after provisioning: %d spot, %d on-demand; want 2, 1", spot, od)
	}
	ctx := context.Background()
	ins, err := h.st.ListInstances(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var od string
	for _, in := range ins {
		if !in.Spot {
			od = in.InstanceID
		}
	}
	if err := h.lc.Terminate(ctx, h.acc.Target(r.Region), []string{od}); err != nil {
		t.Fatal(err)
	}
	if err := h.wf.Reconcile(ctx, r.ID); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if spot, od := h.markets(t, r); spot != 2 || od != 1 {
		t.Fatalf("after losing the on-demand one: %d spot, %d on-demand; want 2, 1", spot, od)
	}
}

// cpu is a cloud.Metrics reporting a fixed average.
type cpu func() float64

func (c cpu) AverageCPU(context.Context, cloud.Target, []string, time.Time, time.Time) (float64, bool, error) {
	return c(), true, nil
}

// TestScalingPolicies scales an AMI job's run by its policies on the CPU
// the metrics report: up by ScaleFactor (spot) to MaxInstanceCount, then
// down, spot first, to MinInstanceCount.
func TestScalingPolicies(t *testing.T) {
	h := newHarness(t)
	load := 90.0
	c := h.lc.Cloud()
	c.Metrics = cpu(func() float64 { return load })
	h.wf.Cloud = c
	policy := func(typ string, at float64) jobs.ScalingPolicy {
		return jobs.ScalingPolicy{ScaleType: typ, MetricName: "CPUUtilization", Namespace: "AWS/EC2", MetricStatisticType: "Average",
			Period: 60, EvaluationPeriods: 1, ScaleAt: at, ScaleFactor: 2}
	}
	r := h.start(t, jobs.AppAMI, jobs.Input{Name: ptr("scaling"), AmiID: ptr("ami-0123456789abcdef0"), InstanceType: ptr("t3.micro"),
		DesiredInstanceCount: ptr(2), MinInstanceCount: ptr(1), MaxInstanceCount: ptr(5), MinOnDemandInstanceCount: ptr(1),
		ScalingPolicies: &[]jobs.ScalingPolicy{policy(jobs.ScaleUp, 70), policy(jobs.ScaleDown, 20)}})
	ctx := context.Background()
	steps := []struct {
		name             string
		load             float64
		wantSpot, wantOD int
		wantLog          string
	}{
		{"busy: up by two", 90, 3, 1, "Average CPU 90.0%: scaling up from 2 to 4 instances"},
		{"busy: up by one to the maximum", 90, 4, 1, "scaling up from 4 to 5 instances"},
		{"busy at the maximum: stays", 90, 4, 1, ""},
		{"between thresholds: stays", 50, 4, 1, ""},
		{"idle: down by two, spot first", 5, 2, 1, "Average CPU 5.0%: scaling down from 5 to 3 instances"},
		{"idle: down to the minimum, spot first", 5, 0, 1, "scaling down from 3 to 1 instances"},
		{"idle at the minimum: stays", 5, 0, 1, ""},
	}
	for _, st := range steps {
		load = st.load
		if err := h.wf.Reconcile(ctx, r.ID); err != nil {
			t.Fatalf("%s: reconcile: %v", st.name, err)
		}
		if spot, od := h.markets(t, r); spot != st.wantSpot || od != st.wantOD {
			t.Fatalf("%s: %d spot, %d on-demand; want %d, %d", st.name, spot, od, st.wantSpot, st.wantOD)
		}
		if st.wantLog != "" && !strings.Contains(h.logs(t, r.ID), st.wantLog) {
			t.Fatalf("%s: log lacks %q:\n%s", st.name, st.wantLog, h.logs(t, r.ID))
		}
	}
}
