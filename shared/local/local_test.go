package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/local"
	"github.com/batchplane/batchplane/shared/prices"
	"github.com/batchplane/batchplane/shared/runs"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store/storetest"
	"github.com/batchplane/batchplane/shared/workflow"
)

type harness struct {
	t     *testing.T
	rt    *local.Runtime
	srv   *httptest.Server
	admin identity.NewKey
}

func wire(t *testing.T, table, cloudState string) *local.Runtime {
	t.Helper()
	root, err := storetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := secrets.NewAESGCM(bytes.Repeat([]byte{3}, 32))
	rt, err := local.Wire(context.Background(), local.WireOptions{DB: storetest.Client(t), Table: table, Sealer: sealer,
		Root: root, CloudState: cloudState, InterruptionDelay: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func start(t *testing.T, rt *local.Runtime, admin *identity.NewKey) *harness {
	t.Helper()
	h := &harness{t: t, rt: rt, srv: httptest.NewServer(rt.Service.API)}
	if admin == nil {
		nk, _, err := rt.Service.Identity.Bootstrap(context.Background(), "admin@example.com")
		if err != nil {
			t.Fatal(err)
		}
		admin = &nk
	}
	h.admin = *admin
	return h
}

func (h *harness) close() {
	h.srv.Close()
	h.rt.Close()
}

// call sends an Administrator's request and decodes a JSON object answer
// (nil for any other JSON); a 5xx fails the test (jsonCallHeader).
func (h *harness) call(method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	status, out, _ := h.jsonCallHeader(method, path, body)
	m, _ := out.(map[string]any)
	return status, m
}

func (h *harness) must(status int, method, path string, body any) map[string]any {
	h.t.Helper()
	got, out := h.call(method, path, body)
	if got != status {
		h.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, status, out)
	}
	return out
}

// eventually polls f until it returns true or 15 s pass.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) instances(run string) []map[string]any {
	out := h.must(200, "GET", "/api/runs/"+run+"/Instances", nil)
	var list []map[string]any
	for _, x := range out["Data"].([]any) {
		list = append(list, x.(map[string]any))
	}
	return list
}

func running(list []map[string]any) (spot, onDemand int) {
	for _, in := range list {
		if in["Status"] != "running" {
			continue
		}
		if in["LifeCycle"] == "spot" {
			spot++
		} else {
			onDemand++
		}
	}
	return
}

func (h *harness) logs(run string) string {
	out := h.must(200, "GET", "/api/v2/runs/"+run+"/logs?PageSize=100", nil)
	var b strings.Builder
	for _, l := range out["Logs"].([]any) {
		b.WriteString(l.(map[string]any)["Message"].(string) + "\n")
	}
	return b.String()
}

// account registers a local account and returns its id.
func (h *harness) account() string {
	return h.must(201, "POST", "/api/accounts/CloudFrontAWS", map[string]any{"Name": "local", "BaseRegion": "us-east-1",
		"RoleArn": "arn:aws:iam::123456789012:role/batchplane"})["Data"].(map[string]any)["Id"].(string)
}

func (h *harness) setup() (jobID string) {
	acc := h.account()
	groups := h.must(200, "GET", "/api/Accounts/"+acc+"/AutoScalingGroups?region=us-east-1", nil)["Data"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["Name"] != "local-asg" {
		h.t.Fatalf("groups %v", groups)
	}
	g := h.must(200, "GET", "/api/Accounts/"+acc+"/AutoScalingGroups/local-asg", nil)["Data"].(map[string]any)
	if g["AutoScalingGroup"].(map[string]any)["DesiredCount"] != 3.0 {
		h.t.Fatalf("group %v", g)
	}
	job := h.must(201, "POST", "/api/v2/apps/AutoScalingGroup/Add", map[string]any{"AccountId": acc, "Name": "ASG Job",
		"AutoScalingGroupName": "local-asg", "BaseRegion": "us-east-1", "MinOnDemandInstanceCount": 1,
		"ReplaceUnhealthyInstances": true, "ReinstateOnStop": true})["Job"].(map[string]any)
	return job["Id"].(string)
}

// TestASGRunWalkThrough is the README's walk-through, driven only through
// the documented HTTP routes, on the local cloud and the real state
// machine definition run by the local runner.
func TestASGRunWalkThrough(t *testing.T) {
	db := storetest.Client(t)
	h := start(t, wire(t, storetest.NewTable(t, db), ""), nil)
	defer h.close()
	job := h.setup()

	// 20 concurrent executes start exactly one run.
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var reqID string
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, out := h.call("POST", "/api/v2/apps/AutoScalingGroup/"+job+"/execute", nil)
			mu.Lock()
			defer mu.Unlock()
			statuses[st]++
			if st == 202 {
				reqID = out["RunRequestId"].(string)
			}
		}()
	}
	wg.Wait()
	if statuses[202] != 1 || statuses[409] != 19 {
		t.Fatalf("concurrent executes: %v", statuses)
	}
	run := h.must(200, "GET", "/api/runs/Check/"+reqID, nil)["Data"].(string)
	if !strings.HasPrefix(run, "R-") {
		t.Fatalf("run id %q", run)
	}

	// 2 spot + 1 on-demand, and the timeline.
	eventually(t, "2 spot + 1 on-demand", func() bool { s, o := running(h.instances(run)); return s == 2 && o == 1 })
	eventually(t, "Maintaining Desired State", func() bool { return strings.Contains(h.logs(run), "Maintaining Desired State") })
	logs := h.logs(run)
	for _, want := range []string{"Run Started", "Launching 3 t3.micro instances"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if st, _ := h.call("PUT", "/api/v2/apps/AutoScalingGroup/"+job, map[string]any{"Name": "renamed"}); st != 200 {
		t.Errorf("update while running: %d", st)
	}
	if st, _ := h.call("DELETE", "/api/v2/apps/AutoScalingGroup/"+job, nil); st != 409 {
		t.Errorf("delete while running: %d", st)
	}

	// A spot interruption is replaced and logged.
	var victim string
	for _, in := range h.instances(run) {
		if in["LifeCycle"] == "spot" {
			victim = in["InstanceId"].(string)
			break
		}
	}
	h.must(202, "POST", "/local/instances/"+victim+"/faults", map[string]any{"Fault": "spot-interruption"})
	eventually(t, "replacement", func() bool {
		list := h.instances(run)
		s, o := running(list)
		return len(list) == 4 && s+o == 3 && o >= 1
	})
	eventually(t, "replacement logged", func() bool {
		l := h.logs(run)
		return strings.Contains(l, "Spot interruption warning for "+victim) && strings.Contains(l, "Instance "+victim+" was interrupted (spot); replaced by")
	})
	// The replacement is one of the group's instances, and the group's
	// desired count is still the run's.
	eventually(t, "replacement attached to local-asg", func() bool {
		g, err := h.rt.Cloud.GetGroup(context.Background(), cloud.Target{AccountID: accountOf(h, job), Region: "us-east-1"}, "local-asg")
		if err != nil || len(g.InstanceIDs) != 3 || g.DesiredCapacity != 3 || g.MaxSize != 5 || slices.Contains(g.InstanceIDs, victim) {
			return false
		}
		for _, in := range h.instances(run) {
			if in["Status"] == "running" && !slices.Contains(g.InstanceIDs, in["InstanceId"].(string)) {
				return false
			}
		}
		return true
	})

	// Stop: costs, savings and right-size advice.
	h.must(200, "PUT", "/api/runs/"+run, nil)
	var sum map[string]any
	eventually(t, "run completed", func() bool {
		sum = h.must(200, "GET", "/api/v2/runs/"+run+"/summary", nil)["RunSummary"].(map[string]any)
		return sum["Status"] == "Completed"
	})
	if sum["EndDate"] == nil || sum["SpotHours"].(float64) <= 0 || sum["OnDemandHours"].(float64) <= 0 {
		t.Fatalf("summary %v", sum)
	}
	p, _ := prices.Lookup("us-east-1", "t3.micro")
	wantActual := sum["SpotHours"].(float64)*p.Spot + sum["OnDemandHours"].(float64)*p.OnDemand
	wantEstimated := (sum["SpotHours"].(float64) + sum["OnDemandHours"].(float64)) * p.OnDemand
	if math.Abs(sum["ActualCost"].(float64)-wantActual) > 1e-3 || math.Abs(sum["EstimatedCost"].(float64)-wantEstimated) > 1e-3 {
		t.Errorf("costs %v, want actual %.6f estimated %.6f", sum, wantActual, wantEstimated)
	}
	if sum["ActualCost"].(float64) >= sum["EstimatedCost"].(float64) || sum["SavingsPercentage"].(float64) <= 0 {
		t.Errorf("no savings: %v", sum)
	}
	for _, in := range h.instances(run) {
		if in["StopTime"] == nil {
			t.Errorf("instance %v has no StopTime", in["InstanceId"])
		}
	}
	rec := h.must(200, "GET", "/api/v2/runs/"+run+"/RightSizeRecommendations", nil)["Recommendation"].(map[string]any)
	if rec["Message"] == "" || rec["Available"] != true || rec["Recommendations"] != "t3.nano" {
		t.Errorf("recommendation %v", rec)
	}
	// The group is handed back.
	acc := h.must(200, "GET", "/api/v2/apps/AutoScalingGroup/"+job, nil)["Job"].(map[string]any)["AccountId"].(string)
	g := h.must(200, "GET", "/api/Accounts/"+acc+"/AutoScalingGroups/local-asg", nil)["Data"].(map[string]any)["AutoScalingGroup"].(map[string]any)
	if g["DesiredCount"] != 3.0 {
		t.Errorf("group after stop: %v", g)
	}
	// The job can run again and be deleted once idle.
	jobs := h.must(200, "GET", "/api/jobs", nil)["Data"].([]any)
	if len(jobs) != 1 || jobs[0].(map[string]any)["Runs"] != 1.0 || jobs[0].(map[string]any)["IsExecuting"] != false {
		t.Errorf("jobs %v", jobs)
	}
	h.must(200, "DELETE", "/api/Runs/"+run, nil)
	h.must(404, "GET", "/api/Runs/"+run, nil)
	h.must(200, "DELETE", "/api/v2/apps/AutoScalingGroup/"+job, nil)
}

// TestRestartResumesRun kills the local runtime in the middle of a run and
// starts another on the same table: the run is picked back up from
// DynamoDB and can be stopped.
func TestRestartResumesRun(t *testing.T) {
	db := storetest.Client(t)
	table := storetest.NewTable(t, db)
	cloudState := t.TempDir() + "/cloud.json"
	h := start(t, wire(t, table, cloudState), nil)
	job := h.setup()
	reqID := h.must(202, "POST", "/api/v2/apps/AutoScalingGroup/"+job+"/execute", nil)["RunRequestId"].(string)
	run := h.must(200, "GET", "/api/runs/Check/"+reqID, nil)["Data"].(string)
	eventually(t, "waiting for stop", func() bool { return strings.Contains(h.logs(run), "Maintaining Desired State") })
	admin := h.admin
	h.close()

	h2 := start(t, wire(t, table, cloudState), &admin)
	defer h2.close()
	n, err := h2.rt.Executions.ResumeAll(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("resumed %d executions: %v", n, err)
	}
	if s, o := running(h2.instances(run)); s != 2 || o != 1 {
		t.Fatalf("after restart: %d spot %d on-demand", s, o)
	}
	// Give the resumed execution time to re-enter its wait.
	time.Sleep(300 * time.Millisecond)
	h2.must(200, "PUT", "/api/runs/"+run, nil)
	eventually(t, "run completed after restart", func() bool {
		return h2.must(200, "GET", "/api/Runs/"+run, nil)["Data"].(map[string]any)["Status"] == "Completed"
	})
	if strings.Count(h2.logs(run), "Launching 3 t3.micro instances") != 1 {
		t.Errorf("launched twice:\n%s", h2.logs(run))
	}
	_ = fmt.Sprint()
}

// eventFile loads an events/ payload for instance id at time at.
func eventFile(t *testing.T, name, id string, at time.Time) []byte {
	t.Helper()
	root, _ := storetest.RepoRoot()
	raw, err := os.ReadFile(filepath.Join(root, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	_ = json.Unmarshal(raw, &ev)
	ev["time"] = at.UTC().Format(time.RFC3339Nano)
	ev["detail"].(map[string]any)["instance-id"] = id
	out, _ := json.Marshal(ev)
	return out
}

// TestDuplicatedAndReorderedEvents replays events/ payloads: a duplicated
// termination launches one replacement, a stale "running" after the
// termination changes nothing.
func TestDuplicatedAndReorderedEvents(t *testing.T) {
	db := storetest.Client(t)
	h := start(t, wire(t, storetest.NewTable(t, db), ""), nil)
	defer h.close()
	job := h.setup()
	reqID := h.must(202, "POST", "/api/v2/apps/AutoScalingGroup/"+job+"/execute", nil)["RunRequestId"].(string)
	run := h.must(200, "GET", "/api/runs/Check/"+reqID, nil)["Data"].(string)
	eventually(t, "provisioned", func() bool { s, o := running(h.instances(run)); return s == 2 && o == 1 })
	var victim string
	for _, in := range h.instances(run) {
		if in["LifeCycle"] == "spot" {
			victim = in["InstanceId"].(string)
		}
	}
	wf := h.rt.Service.Workflow
	deliver := func(name string, at time.Time) {
		t.Helper()
		ev, ok, err := workflow.ParseEvent(eventFile(t, name, victim, at))
		if err != nil || !ok {
			t.Fatalf("parse %s: %v %v", name, ok, err)
		}
		if err := wf.HandleEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	// The instance really goes away (the cloud's own events flow too).
	if err := h.rt.Cloud.Terminate(context.Background(), cloud.Target{AccountID: accountOf(h, job), Region: "us-east-1"}, []string{victim}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replacement", func() bool { return len(h.instances(run)) == 4 })
	later := time.Now().Add(time.Minute)
	for range 3 {
		deliver("ec2-spot-interruption.json", later)
		deliver("ec2-state-change-terminated.json", later)
	}
	deliver("ec2-state-change-running.json", later.Add(-time.Hour)) // out of order: older than what was applied
	time.Sleep(200 * time.Millisecond)
	list := h.instances(run)
	if len(list) != 4 {
		t.Fatalf("%d instances after duplicated events, want 4", len(list))
	}
	for _, in := range list {
		if in["InstanceId"] == victim && in["Status"] != "terminated" {
			t.Fatalf("stale event revived %s: %v", victim, in["Status"])
		}
	}
	if n := strings.Count(h.logs(run), "Instance "+victim); n != 1 {
		t.Fatalf("replacement logged %d times:\n%s", n, h.logs(run))
	}
	h.must(200, "PUT", "/api/runs/"+run, nil)
	eventually(t, "stopped", func() bool {
		return h.must(200, "GET", "/api/Runs/"+run, nil)["Data"].(map[string]any)["Status"] == "Completed"
	})
}

func accountOf(h *harness, job string) string {
	return h.must(200, "GET", "/api/v2/apps/AutoScalingGroup/"+job, nil)["Job"].(map[string]any)["AccountId"].(string)
}

// TestAMIRunMeasuresItsLaunchScript runs an AMI job whose launch script is
// a real busy process: its measured CPU drives the right-size advice.
func TestAMIRunMeasuresItsLaunchScript(t *testing.T) {
	db := storetest.Client(t)
	h := start(t, wire(t, storetest.NewTable(t, db), ""), nil)
	defer h.close()
	acc := h.account()
	bad := map[string]any{"AccountId": acc, "Name": "x", "AmiId": "ami-0123456789abcdef0", "InstanceType": "t3.micro",
		"ElasticLoadBalancerNames": []string{"elb"}, "TargetGroupARNs": []string{"arn:tg"}}
	if st, out := h.call("POST", "/api/v2/apps/Ami/Add", bad); st != 400 || out["Errors"].(map[string]any)["TargetGroupARNs"] == nil {
		t.Fatalf("ELB and ALB together: %d %v", st, out)
	}
	job := h.must(201, "POST", "/api/v2/apps/Ami/Add", map[string]any{"AccountId": acc, "Name": "busy", "AmiId": "ami-0123456789abcdef0",
		"InstanceType": "t3.micro", "DesiredInstanceCount": 1, "MinOnDemandInstanceCount": 0,
		"LaunchScript": "while :; do :; done"})["Job"].(map[string]any)["Id"].(string)
	if got := h.must(200, "GET", "/api/v2/apps/Ami/"+job, nil)["Job"].(map[string]any); got["LaunchScript"] != "while :; do :; done" {
		t.Fatalf("job %v", got)
	}
	reqID := h.must(202, "POST", "/api/v2/apps/Ami/"+job+"/execute", nil)["RunRequestId"].(string)
	run := h.must(200, "GET", "/api/runs/Check/"+reqID, nil)["Data"].(string)
	eventually(t, "1 spot instance", func() bool { s, _ := running(h.instances(run)); return s == 1 })
	time.Sleep(1500 * time.Millisecond)
	live := h.must(200, "GET", "/api/v2/runs/"+run+"/RightSizeRecommendations", nil)["Recommendation"].(map[string]any)
	// A busy loop demands a whole core however loaded the machine is (the
	// local cloud counts the time it waits for a core as demand: see
	// cloud/local's cpuPercent): busy means no smaller type is advised,
	// which an idle script (~0%) would get.
	if live["AverageCPUUtilization"].(float64) < 50 {
		t.Fatalf("busy script measured at %v%% CPU", live["AverageCPUUtilization"])
	}
	h.must(200, "PUT", "/api/runs/"+run, nil)
	eventually(t, "completed", func() bool {
		return h.must(200, "GET", "/api/Runs/"+run, nil)["Data"].(map[string]any)["Status"] == "Completed"
	})
	rec := h.must(200, "GET", "/api/v2/runs/"+run+"/RightSizeRecommendations", nil)["Recommendation"].(map[string]any)
	avg := rec["AverageCPUUtilization"].(float64)
	// The advice must be the one its measured figure calls for.
	want := runs.Advise(prices.Catalog{}, "t3.micro", avg)
	if avg < 50 || rec["Message"] != want.Message || rec["Available"] != want.Available {
		t.Fatalf("recommendation %v, want %+v", rec, want)
	}
	if avg > runs.HighCPU && rec["Recommendations"] != "t3.small" {
		t.Fatalf("recommendation %v", rec)
	}
}

// TestAMIRunRegistersWithTargetGroups: an AMI job's instances are
// registered with its target groups when launched, a spot instance is
// deregistered on its interruption warning and its replacement registered,
// and every instance is deregistered before the run's instances are
// terminated at stop.
func TestAMIRunRegistersWithTargetGroups(t *testing.T) {
	db := storetest.Client(t)
	h := start(t, wire(t, storetest.NewTable(t, db), ""), nil)
	defer h.close()
	acc := h.account()
	tgs := []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/fedcba9876543210"}
	job := h.must(201, "POST", "/api/v2/apps/Ami/Add", map[string]any{"AccountId": acc, "Name": "web", "AmiId": "ami-0123456789abcdef0",
		"InstanceType": "t3.micro", "DesiredInstanceCount": 2, "MinOnDemandInstanceCount": 1, "TargetGroupARNs": tgs,
		"LaunchScript": "sleep 600"})["Job"].(map[string]any)["Id"].(string)
	reqID := h.must(202, "POST", "/api/v2/apps/Ami/"+job+"/execute", nil)["RunRequestId"].(string)
	run := h.must(200, "GET", "/api/runs/Check/"+reqID, nil)["Data"].(string)
	eventually(t, "1 spot + 1 on-demand", func() bool { s, o := running(h.instances(run)); return s == 1 && o == 1 })
	target := cloud.Target{AccountID: acc, Region: "us-east-1"}
	registered := func(tg string) []string {
		ids := h.rt.Cloud.Registered(target, tg)
		slices.Sort(ids)
		return ids
	}
	alive := func() []string {
		var ids []string
		for _, in := range h.instances(run) {
			if in["Status"] == "running" || in["Status"] == "pending" {
				ids = append(ids, in["InstanceId"].(string))
			}
		}
		slices.Sort(ids)
		return ids
	}
	eventually(t, "both target groups hold the run's instances", func() bool {
		return slices.Equal(registered(tgs[0]), alive()) && slices.Equal(registered(tgs[1]), alive())
	})
	var spot string
	for _, in := range h.instances(run) {
		if in["LifeCycle"] == "spot" {
			spot = in["InstanceId"].(string)
		}
	}
	h.must(202, "POST", "/local/instances/"+spot+"/faults", map[string]any{"Fault": "spot-interruption"})
	eventually(t, "the interrupted instance out, its replacement in", func() bool {
		ids := registered(tgs[0])
		return len(ids) == 2 && !slices.Contains(ids, spot) && slices.Equal(ids, registered(tgs[1]))
	})
	if logs := h.logs(run); !strings.Contains(logs, "Registered") || !strings.Contains(logs, tgs[0]) {
		t.Errorf("log lacks the registration:\n%s", logs)
	}
	h.must(200, "PUT", "/api/runs/"+run, nil)
	eventually(t, "completed", func() bool {
		return h.must(200, "GET", "/api/Runs/"+run, nil)["Data"].(map[string]any)["Status"] == "Completed"
	})
	if a, b := registered(tgs[0]), registered(tgs[1]); len(a)+len(b) != 0 {
		t.Fatalf("still registered after stop: %v %v", a, b)
	}
}

// TestSweepRepairsLostEventsAndUnhealthyInstances: an instance that dies
// while events are lost, and one that turns unhealthy (EC2 sends no event
// for that), are both replaced by the safety sweep.
func TestSweepRepairsLostEventsAndUnhealthyInstances(t *testing.T) {
	db := storetest.Client(t)
	h := start(t, wire(t, storetest.NewTable(t, db), ""), nil)
	defer h.close()
	job := h.setup()
	reqID := h.must(202, "POST", "/api/v2/apps/AutoScalingGroup/"+job+"/execute", nil)["RunRequestId"].(string)
	run := h.must(200, "GET", "/api/runs/Check/"+reqID, nil)["Data"].(string)
	eventually(t, "provisioned", func() bool { s, o := running(h.instances(run)); return s == 2 && o == 1 })
	var spot, od string
	for _, in := range h.instances(run) {
		if in["LifeCycle"] == "spot" {
			spot = in["InstanceId"].(string)
		} else {
			od = in["InstanceId"].(string)
		}
	}
	h.rt.Cloud.DropEvents(true)
	if err := h.rt.Cloud.Terminate(context.Background(), cloud.Target{AccountID: accountOf(h, job), Region: "us-east-1"}, []string{spot}); err != nil {
		t.Fatal(err)
	}
	h.must(202, "POST", "/local/instances/"+od+"/faults", map[string]any{"Fault": "unhealthy"})
	time.Sleep(200 * time.Millisecond)
	if n := len(h.instances(run)); n != 3 {
		t.Fatalf("%d instances before the sweep: the lost event was delivered after all", n)
	}
	h.rt.Cloud.DropEvents(false)
	if err := h.rt.Service.Workflow.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The lost spot instance is replaced; the unhealthy one is still within
	// local-asg's 60 s health check grace period, so it stays.
	eventually(t, "the lost instance replaced", func() bool {
		list := h.instances(run)
		s, o := running(list)
		return len(list) == 4 && s == 2 && o == 1
	})
	if logs := h.logs(run); !strings.Contains(logs, "Instance "+spot+" was lost") || strings.Contains(logs, "is unhealthy") {
		t.Fatalf("after the first sweep:\n%s", logs)
	}
	// Past the grace period (a sweep whose clock is two minutes on), the
	// unhealthy instance is replaced on-demand.
	late := *h.rt.Service.Workflow
	late.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if err := late.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "2 spot + 1 on-demand after the late sweep", func() bool {
		list := h.instances(run)
		s, o := running(list)
		return len(list) == 5 && s == 2 && o == 1
	})
	if logs := h.logs(run); !strings.Contains(logs, "Instance "+od+" is unhealthy") {
		t.Errorf("log lacks the unhealthy replacement:\n%s", logs)
	}
	// Another sweep changes nothing.
	if err := late.Sweep(context.Background()); err != nil || len(h.instances(run)) != 5 {
		t.Fatalf("second sweep: %v, %d instances", err, len(h.instances(run)))
	}
	h.must(200, "PUT", "/api/runs/"+run, nil)
	eventually(t, "stopped", func() bool {
		return h.must(200, "GET", "/api/Runs/"+run, nil)["Data"].(map[string]any)["Status"] == "Completed"
	})
}

// TestAMIScalingPolicies: a busy AMI job with a ScaleUp policy grows by
// ScaleFactor on the next reconcile, up to MaxInstanceCount.
func TestAMIScalingPolicies(t *testing.T) {
	db := storetest.Client(t)
	h := start(t, wire(t, storetest.NewTable(t, db), ""), nil)
	defer h.close()
	acc := h.account()
	job := h.must(201, "POST", "/api/v2/apps/Ami/Add", map[string]any{"AccountId": acc, "Name": "scaling", "AmiId": "ami-0123456789abcdef0",
		"InstanceType": "t3.micro", "DesiredInstanceCount": 1, "MinInstanceCount": 1, "MaxInstanceCount": 2,
		"LaunchScript": "while :; do :; done",
		"ScalingPolicies": []map[string]any{{"ScaleType": "ScaleUp", "MetricName": "CPUUtilization", "Namespace": "AWS/EC2",
			"MetricStatisticType": "Average", "Period": 60, "EvaluationPeriods": 1, "ScaleAt": 30, "ScaleFactor": 1}}})["Job"].(map[string]any)["Id"].(string)
	reqID := h.must(202, "POST", "/api/v2/apps/Ami/"+job+"/execute", nil)["RunRequestId"].(string)
	run := h.must(200, "GET", "/api/runs/Check/"+reqID, nil)["Data"].(string)
	eventually(t, "1 instance", func() bool { s, o := running(h.instances(run)); return s+o == 1 })
	time.Sleep(time.Second)
	for range 3 { // the third and later reconciles stay at the maximum
		if err := h.rt.Service.Workflow.Reconcile(context.Background(), run); err != nil {
			t.Fatal(err)
		}
	}
	if s, o := running(h.instances(run)); s+o != 2 {
		t.Fatalf("%d instances after scaling up, want 2 (MaxInstanceCount)", s+o)
	}
	if !strings.Contains(h.logs(run), "scaling up from 1 to 2 instances") {
		t.Fatalf("log:\n%s", h.logs(run))
	}
	h.must(200, "PUT", "/api/runs/"+run, nil)
	eventually(t, "completed", func() bool {
		return h.must(200, "GET", "/api/Runs/"+run, nil)["Data"].(map[string]any)["Status"] == "Completed"
	})
}
