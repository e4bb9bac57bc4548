package workflow

import (
	"reflect"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/runs"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// rec is a record of a running instance launched at t0.
func rec(id string, spot bool, mods ...func(*runs.Instance)) runs.Instance {
	r := runs.Instance{InstanceID: id, Spot: spot, State: cloud.StateRunning, Healthy: true, LaunchTime: t0}
	for _, m := range mods {
		m(&r)
	}
	return r
}

// live is the cloud's view of a running, healthy instance.
func live(id string, mods ...func(*cloud.Instance)) cloud.Instance {
	l := cloud.Instance{ID: id, State: cloud.StateRunning, Healthy: true, LaunchTime: t0}
	for _, m := range mods {
		m(&l)
	}
	return l
}

func unhealthy(l *cloud.Instance)  { l.Healthy = false }
func interrupted(r *runs.Instance) { r.Interrupted = true }
func replacedBy(by string) func(*runs.Instance) {
	return func(r *runs.Instance) { r.ReplacedBy = by }
}
func state(s string) func(*cloud.Instance) { return func(l *cloud.Instance) { l.State = s } }

func ids(ins []runs.Instance) []string {
	out := []string{}
	for _, in := range ins {
		out = append(out, in.InstanceID)
	}
	return out
}

// plan is a replacement reduced to what a table states.
type planned struct {
	Old       string
	Market    cloud.Market
	Why       string
	Terminate bool
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name        string
		o           observed
		wantRefresh []stateChange
		wantAlive   []string
		wantReplace []planned
	}{
		{
			name:      "steady: nothing to do",
			o:         observed{Records: []runs.Instance{rec("a", true), rec("b", false)}, Live: []cloud.Instance{live("a"), live("b")}, Now: t0, Desired: 2, MinOnDemand: 1},
			wantAlive: []string{"a", "b"},
		},
		{
			name:        "lost: the cloud no longer reports it",
			o:           observed{Records: []runs.Instance{rec("a", true), rec("b", true)}, Live: []cloud.Instance{live("a")}, Now: t0, Desired: 2},
			wantRefresh: []stateChange{{"b", cloud.StateTerminated}},
			wantAlive:   []string{"a"},
			wantReplace: []planned{{"b", cloud.Spot, "was lost", false}},
		},
		{
			name:        "lost: terminated behind our back",
			o:           observed{Records: []runs.Instance{rec("a", true), rec("b", true)}, Live: []cloud.Instance{live("a"), live("b", state(cloud.StateTerminated))}, Now: t0, Desired: 2},
			wantRefresh: []stateChange{{"b", cloud.StateTerminated}},
			wantAlive:   []string{"a"},
			wantReplace: []planned{{"b", cloud.Spot, "was lost", false}},
		},
		{
			name:        "stopped counts as lost",
			o:           observed{Records: []runs.Instance{rec("a", true)}, Live: []cloud.Instance{live("a", state(cloud.StateStopped))}, Now: t0, Desired: 1},
			wantRefresh: []stateChange{{"a", cloud.StateStopped}},
			wantAlive:   []string{},
			wantReplace: []planned{{"a", cloud.Spot, "was lost", false}},
		},
		{
			name:        "spot interrupted: replaced, not terminated by us",
			o:           observed{Records: []runs.Instance{rec("a", true, interrupted), rec("b", true)}, Live: []cloud.Instance{live("a"), live("b")}, Now: t0, Desired: 2},
			wantAlive:   []string{"b"},
			wantReplace: []planned{{"a", cloud.Spot, "was interrupted (spot)", false}},
		},
		{
			name:        "already replaced: neither alive nor replaced again",
			o:           observed{Records: []runs.Instance{rec("a", true, interrupted, replacedBy("c")), rec("c", true)}, Live: []cloud.Instance{live("c")}, Now: t0, Desired: 2},
			wantRefresh: []stateChange{{"a", cloud.StateTerminated}},
			wantAlive:   []string{"c"},
		},
		{
			name:      "unhealthy within the grace period: kept",
			o:         observed{Records: []runs.Instance{rec("a", true)}, Live: []cloud.Instance{live("a", unhealthy)}, Now: t0.Add(59 * time.Second), Grace: time.Minute, Desired: 1, ReplaceUnhealthy: true},
			wantAlive: []string{"a"},
		},
		{
			name:        "unhealthy after the grace period: replaced and terminated",
			o:           observed{Records: []runs.Instance{rec("a", true)}, Live: []cloud.Instance{live("a", unhealthy)}, Now: t0.Add(time.Minute), Grace: time.Minute, Desired: 1, ReplaceUnhealthy: true},
			wantAlive:   []string{},
			wantReplace: []planned{{"a", cloud.Spot, "is unhealthy", true}},
		},
		{
			name:      "unhealthy without ReplaceUnhealthyInstances: kept",
			o:         observed{Records: []runs.Instance{rec("a", true)}, Live: []cloud.Instance{live("a", unhealthy)}, Now: t0.Add(time.Hour), Grace: time.Minute, Desired: 1},
			wantAlive: []string{"a"},
		},
		{
			name:        "unhealthy and interrupted: not terminated by us",
			o:           observed{Records: []runs.Instance{rec("a", true, interrupted)}, Live: []cloud.Instance{live("a", unhealthy)}, Now: t0.Add(time.Hour), Desired: 1, ReplaceUnhealthy: true},
			wantAlive:   []string{},
			wantReplace: []planned{{"a", cloud.Spot, "was interrupted (spot)", false}},
		},
		{
			name:        "on-demand floor: a lost on-demand instance is replaced on-demand",
			o:           observed{Records: []runs.Instance{rec("a", false), rec("b", true)}, Live: []cloud.Instance{live("b")}, Now: t0, Desired: 2, MinOnDemand: 1},
			wantRefresh: []stateChange{{"a", cloud.StateTerminated}},
			wantAlive:   []string{"b"},
			wantReplace: []planned{{"a", cloud.OnDemand, "was lost", false}},
		},
		{
			name:        "on-demand floor: below it until met, spot above",
			o:           observed{Records: []runs.Instance{rec("a", false), rec("b", false), rec("c", true)}, Live: nil, Now: t0, Desired: 3, MinOnDemand: 1},
			wantRefresh: []stateChange{{"a", cloud.StateTerminated}, {"b", cloud.StateTerminated}, {"c", cloud.StateTerminated}},
			wantAlive:   []string{},
			wantReplace: []planned{{"a", cloud.OnDemand, "was lost", false}, {"b", cloud.Spot, "was lost", false}, {"c", cloud.Spot, "was lost", false}},
		},
		{
			name:        "on-demand floor met by a spot instance's loss: spot",
			o:           observed{Records: []runs.Instance{rec("a", false), rec("b", true)}, Live: []cloud.Instance{live("a")}, Now: t0, Desired: 2, MinOnDemand: 1},
			wantRefresh: []stateChange{{"b", cloud.StateTerminated}},
			wantAlive:   []string{"a"},
			wantReplace: []planned{{"b", cloud.Spot, "was lost", false}},
		},
		{
			name:        "no more replacements than Desired needs (after a scale-in)",
			o:           observed{Records: []runs.Instance{rec("a", true), rec("b", true), rec("c", true)}, Live: []cloud.Instance{live("a")}, Now: t0, Desired: 2},
			wantRefresh: []stateChange{{"b", cloud.StateTerminated}, {"c", cloud.StateTerminated}},
			wantAlive:   []string{"a"},
			wantReplace: []planned{{"b", cloud.Spot, "was lost", false}},
		},
		{
			name:        "a pending instance is alive; the cloud's health wins",
			o:           observed{Records: []runs.Instance{rec("a", true, func(r *runs.Instance) { r.State = cloud.StatePending; r.Healthy = false })}, Live: []cloud.Instance{live("a")}, Now: t0, Desired: 1, ReplaceUnhealthy: true},
			wantRefresh: []stateChange{{"a", cloud.StateRunning}},
			wantAlive:   []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := decide(tt.o)
			if got, want := a.Refresh, tt.wantRefresh; !reflect.DeepEqual(got, want) {
				t.Errorf("refresh = %v, want %v", got, want)
			}
			if got, want := ids(a.Alive), tt.wantAlive; !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("alive = %v, want %v", got, want)
			}
			var got []planned
			for _, r := range a.Replace {
				got = append(got, planned{r.Old.InstanceID, r.Market, r.Why, r.Terminate})
			}
			if want := tt.wantReplace; !reflect.DeepEqual(got, want) {
				t.Errorf("replace = %+v, want %+v", got, want)
			}
		})
	}
}

func TestLaunchMarkets(t *testing.T) {
	tests := []struct {
		name   string
		market cloud.Market
		want   []cloud.Market
	}{
		{"spot falls back to on-demand when short", cloud.Spot, []cloud.Market{cloud.Spot, cloud.OnDemand}},
		{"on-demand is on-demand only", cloud.OnDemand, []cloud.Market{cloud.OnDemand}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := launchMarkets(tt.market); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("launchMarkets(%s) = %v, want %v", tt.market, got, tt.want)
			}
		})
	}
}

func TestGracePeriodAndReplaceUnhealthy(t *testing.T) {
	tests := []struct {
		name      string
		job       jobs.Job
		group     *cloud.Group
		wantGrace time.Duration
		wantRU    bool
	}{
		{"ASG job: the group's grace period", jobs.Job{ASG: &jobs.ASGConfig{ReplaceUnhealthyInstances: true}}, &cloud.Group{HealthCheckGracePeriod: 60}, time.Minute, true},
		{"AMI job: the job's grace period", jobs.Job{AMI: &jobs.AMIConfig{HealthCheckGracePeriod: 300}}, nil, 5 * time.Minute, false},
		{"AMI job replacing unhealthy", jobs.Job{AMI: &jobs.AMIConfig{ReplaceUnhealthyInstances: true}}, nil, 0, true},
		{"no app", jobs.Job{}, nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gracePeriod(tt.job, tt.group); got != tt.wantGrace {
				t.Errorf("grace = %v, want %v", got, tt.wantGrace)
			}
			if got := replaceUnhealthy(tt.job); got != tt.wantRU {
				t.Errorf("replaceUnhealthy = %v, want %v", got, tt.wantRU)
			}
		})
	}
}

func TestPolicyWindow(t *testing.T) {
	tests := []struct {
		name   string
		p      jobs.ScalingPolicy
		want   time.Duration
		wantOK bool
	}{
		{"CPU, 3 periods of 5 minutes", jobs.ScalingPolicy{MetricName: "CPUUtilization", Period: 300, EvaluationPeriods: 3}, 15 * time.Minute, true},
		{"metric name case-insensitive, at least one period", jobs.ScalingPolicy{MetricName: "cpuutilization", Period: 60}, time.Minute, true},
		{"other metric", jobs.ScalingPolicy{MetricName: "NetworkIn", Period: 60}, 0, false},
		{"no period", jobs.ScalingPolicy{MetricName: "CPUUtilization"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := policyWindow(tt.p)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("policyWindow = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestScaleTo(t *testing.T) {
	up := jobs.ScalingPolicy{ScaleType: jobs.ScaleUp, ScaleAt: 70, ScaleFactor: 2}
	down := jobs.ScalingPolicy{ScaleType: jobs.ScaleDown, ScaleAt: 20, ScaleFactor: 1}
	tests := []struct {
		name                string
		p                   jobs.ScalingPolicy
		avg                 float64
		desired, minN, maxN int
		want                int
		wantOK              bool
	}{
		{"up above threshold", up, 80, 2, 1, 5, 4, true},
		{"up capped at max", up, 80, 4, 1, 5, 5, true},
		{"up at max: no", up, 80, 5, 1, 5, 5, false},
		{"up at threshold: no", up, 70, 2, 1, 5, 2, false},
		{"up by at least one", jobs.ScalingPolicy{ScaleType: jobs.ScaleUp, ScaleAt: 50, ScaleFactor: 0.5}, 60, 2, 1, 5, 3, true},
		{"down below threshold", down, 10, 3, 1, 5, 2, true},
		{"down capped at min", jobs.ScalingPolicy{ScaleType: jobs.ScaleDown, ScaleAt: 20, ScaleFactor: 5}, 10, 3, 2, 5, 2, true},
		{"down at min: no", down, 10, 1, 1, 5, 1, false},
		{"down above threshold: no", down, 30, 3, 1, 5, 3, false},
		{"unknown scale type", jobs.ScalingPolicy{ScaleType: "Sideways", ScaleAt: 0}, 50, 3, 1, 5, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := scaleTo(tt.p, tt.avg, tt.desired, tt.minN, tt.maxN)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("scaleTo = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestScaleInVictims(t *testing.T) {
	alive := []runs.Instance{rec("od1", false), rec("s1", true), rec("od2", false), rec("s2", true)}
	tests := []struct {
		name string
		n    int
		want []string
	}{
		{"newest spot first", 1, []string{"s2"}},
		{"every spot before on-demand", 2, []string{"s2", "s1"}},
		{"then newest on-demand", 3, []string{"s2", "s1", "od2"}},
		{"none", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scaleInVictims(alive, tt.n); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("scaleInVictims(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}
