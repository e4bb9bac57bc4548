package runs

import (
	"math"
	"testing"
	"time"
)

// catalog is a two-type price list for the tests.
type catalog struct{}

func (catalog) Hourly(region, t string, spot bool) (float64, bool) {
	p := map[string][2]float64{"t3.micro": {0.01, 0.003}, "t3.small": {0.02, 0.006}}[t]
	if spot {
		return p[1], p[0] > 0
	}
	return p[0], p[0] > 0
}
func (catalog) Smaller(t string) (string, bool) {
	return map[string]string{"t3.small": "t3.micro"}[t], t == "t3.small"
}
func (catalog) Larger(t string) (string, bool) {
	return map[string]string{"t3.micro": "t3.small"}[t], t == "t3.micro"
}

func TestComputeCosts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(h float64) *time.Time { x := t0.Add(time.Duration(h * float64(time.Hour))); return &x }
	tests := []struct {
		name                    string
		ins                     []Instance
		now                     time.Time
		actual, estimated, spot float64
		od, pct                 float64
	}{
		{"nothing", nil, t0, 0, 0, 0, 0, 0},
		{"2 spot hours + 1 on-demand hour",
			[]Instance{{InstanceType: "t3.micro", Spot: true, LaunchTime: t0, StopTime: at(2)}, {InstanceType: "t3.micro", LaunchTime: t0, StopTime: at(1)}},
			t0.Add(5 * time.Hour), 2*0.003 + 0.01, 3 * 0.01, 2, 1, 100 * (0.03 - 0.016) / 0.03},
		{"running instances count up to now",
			[]Instance{{InstanceType: "t3.small", Spot: true, LaunchTime: t0}},
			t0.Add(30 * time.Minute), 0.003, 0.01, 0.5, 0, 70},
		{"never launched is free", []Instance{{InstanceType: "t3.micro"}}, t0.Add(time.Hour), 0, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ComputeCosts(catalog{}, "us-east-1", tt.ins, tt.now)
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
			if !near(c.ActualCost, tt.actual) || !near(c.EstimatedCost, tt.estimated) || !near(c.SpotHours, tt.spot) ||
				!near(c.OnDemandHours, tt.od) || math.Abs(c.SavingsPercentage-tt.pct) > 0.01 || !near(c.ActualSavings, tt.estimated-tt.actual) {
				t.Fatalf("got %+v", c)
			}
		})
	}
}

func TestAdvise(t *testing.T) {
	tests := []struct {
		name, typ string
		cpu       float64
		available bool
		rec       string
	}{
		{"idle: smaller", "t3.small", 5, true, "t3.micro"},
		{"idle, smallest already", "t3.micro", 5, false, ""},
		{"busy: larger", "t3.micro", 95, true, "t3.small"},
		{"fits", "t3.micro", 50, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Advise(catalog{}, tt.typ, tt.cpu)
			if r.Available != tt.available || (tt.available && (*r.Recommendations != tt.rec || *r.CurrentInstances != tt.typ)) {
				t.Fatalf("got %+v", r)
			}
			if !tt.available && (r.Message != "No recommendation required" || r.Recommendations != nil) {
				t.Fatalf("got %+v", r)
			}
		})
	}
}

func TestEventOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name           string
		a, b           string
		atA, atB       time.Time
		aBeforeB, same bool
	}{
		{name: "running beats pending of the same second", a: "pending", b: "running", atA: t0.Add(900 * time.Millisecond), atB: t0, aBeforeB: true},
		{name: "terminated beats running of the same second", a: "running", b: "terminated", atA: t0, atB: t0, aBeforeB: true},
		{name: "a later second wins whatever the state", a: "stopped", b: "pending", atA: t0, atB: t0.Add(time.Second), aBeforeB: true},
		{name: "an earlier terminated loses to a later running", a: "terminated", b: "running", atA: t0, atB: t0.Add(2 * time.Second), aBeforeB: true},
		{name: "a duplicate is the same order", a: "running", b: "running", atA: t0, atB: t0.Add(300 * time.Millisecond), same: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oa, ob := EventOrder(tc.a, tc.atA), EventOrder(tc.b, tc.atB)
			if tc.same && oa != ob {
				t.Fatalf("orders %d and %d differ", oa, ob)
			}
			if tc.aBeforeB && !(oa < ob) {
				t.Fatalf("%s@%v (%d) is not before %s@%v (%d)", tc.a, tc.atA, oa, tc.b, tc.atB, ob)
			}
		})
	}
}
