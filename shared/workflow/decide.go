package workflow

import (
	"strings"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/runs"
)

// observed is what reconcile decides from: the run's instance records, the
// run's instances as the cloud reports them, the time, and the job's rules.
type observed struct {
	Records []runs.Instance
	Live    []cloud.Instance
	Now     time.Time
	// Grace is the health check grace period: an instance younger than it
	// is not judged unhealthy.
	Grace time.Duration
	// Desired and MinOnDemand are the run's.
	Desired, MinOnDemand int
	// ReplaceUnhealthy is the job's ReplaceUnhealthyInstances.
	ReplaceUnhealthy bool
}

// stateChange brings an instance record in line with the cloud.
type stateChange struct {
	InstanceID string
	State      string
}

// replacement replaces one instance of the run.
type replacement struct {
	Old runs.Instance
	// Market is the one to launch in; spot falls back to on-demand when
	// spot capacity is short (launchMarkets).
	Market cloud.Market
	// Why ends the log line: "was lost", "was interrupted (spot)", "is unhealthy".
	Why string
	// Terminate: the old instance still runs (unhealthy) and must go.
	Terminate bool
}

// actions is what reconcile does: record the state changes, then replace.
type actions struct {
	Refresh []stateChange
	// Alive are the instances kept, in record order, as refreshed.
	Alive []runs.Instance
	// Replace lists replacements, at most enough to reach Desired.
	Replace []replacement
}

// decide is reconcile's judgement, with no side effects: which records the
// cloud contradicts (an instance the cloud no longer reports is
// terminated), which instances count toward the desired state, and which
// lost, interrupted or unhealthy (past the grace period, with
// ReplaceUnhealthy) ones to replace, on-demand while the run is below its
// on-demand floor and spot above it.
func decide(o observed) actions {
	byID := make(map[string]cloud.Instance, len(o.Live))
	for _, in := range o.Live {
		byID[in.ID] = in
	}
	var a actions
	var lost []runs.Instance
	aliveOD := 0
	for _, rec := range o.Records {
		if l, ok := byID[rec.InstanceID]; ok {
			if l.State != rec.State {
				a.Refresh = append(a.Refresh, stateChange{rec.InstanceID, l.State})
				rec.State = l.State
			}
			rec.Healthy = l.Healthy
		} else if rec.State != cloud.StateTerminated {
			a.Refresh = append(a.Refresh, stateChange{rec.InstanceID, cloud.StateTerminated})
			rec.State = cloud.StateTerminated
		}
		switch {
		case rec.ReplacedBy != "":
		case rec.Alive() && (rec.Healthy || !o.ReplaceUnhealthy || o.Now.Sub(rec.LaunchTime) < o.Grace):
			a.Alive = append(a.Alive, rec)
			if !rec.Spot {
				aliveOD++
			}
		default:
			lost = append(lost, rec)
		}
	}
	// A spot launch that falls back to on-demand raises the on-demand
	// count only while it is at or above the floor already, where the next
	// replacement is spot anyway: the markets can be chosen up front.
	kept := len(a.Alive)
	for _, old := range lost {
		if kept >= o.Desired {
			break
		}
		market := cloud.Spot
		if aliveOD < o.MinOnDemand {
			market = cloud.OnDemand
			aliveOD++
		}
		a.Replace = append(a.Replace, replacement{Old: old, Market: market, Why: why(old),
			Terminate: old.Alive() && !old.Healthy && !old.Interrupted})
		kept++
	}
	return a
}

// why says what became of an instance that is replaced.
func why(old runs.Instance) string {
	switch {
	case old.Interrupted:
		return "was interrupted (spot)"
	case old.Alive() && !old.Healthy:
		return "is unhealthy"
	}
	return "was lost"
}

// launchMarkets are the markets to try in order for an instance wanted in
// market: spot falls back to on-demand when spot capacity is short.
func launchMarkets(market cloud.Market) []cloud.Market {
	if market == cloud.Spot {
		return []cloud.Market{cloud.Spot, cloud.OnDemand}
	}
	return []cloud.Market{cloud.OnDemand}
}

// gracePeriod is the health check grace period of a job: its group's for
// an ASG job (g), the job's own for an AMI job. A booting application is
// not a failing one.
func gracePeriod(j jobs.Job, g *cloud.Group) time.Duration {
	switch {
	case g != nil:
		return time.Duration(g.HealthCheckGracePeriod) * time.Second
	case j.AMI != nil:
		return time.Duration(j.AMI.HealthCheckGracePeriod) * time.Second
	}
	return 0
}

// replaceUnhealthy reports whether a job replaces unhealthy instances.
func replaceUnhealthy(j jobs.Job) bool {
	return (j.ASG != nil && j.ASG.ReplaceUnhealthyInstances) || (j.AMI != nil && j.AMI.ReplaceUnhealthyInstances)
}

// policyWindow is how far back a scaling policy looks; ok is false for a
// policy batchplane does not apply (a metric other than CPUUtilization, no
// period).
func policyWindow(p jobs.ScalingPolicy) (time.Duration, bool) {
	if !strings.EqualFold(p.MetricName, "CPUUtilization") || p.Period <= 0 {
		return 0, false
	}
	return time.Duration(p.Period*max(p.EvaluationPeriods, 1)) * time.Second, true
}

// scaleTo is the desired count a policy asks for at an average CPU of avg:
// above a ScaleUp threshold ScaleFactor more (at least one, up to
// maxCount), below a ScaleDown threshold ScaleFactor fewer (down to
// minCount); ok is false when the policy does not fire.
func scaleTo(p jobs.ScalingPolicy, avg float64, desired, minCount, maxCount int) (int, bool) {
	n := max(int(p.ScaleFactor), 1)
	switch {
	case p.ScaleType == jobs.ScaleUp && avg > p.ScaleAt && desired < maxCount:
		return desired + min(n, maxCount-desired), true
	case p.ScaleType == jobs.ScaleDown && avg < p.ScaleAt && desired > minCount:
		return desired - min(n, desired-minCount), true
	}
	return desired, false
}

// scaleInVictims picks n instances to remove when scaling in: spot first,
// the newest (last) first, so the on-demand floor is kept.
func scaleInVictims(alive []runs.Instance, n int) []string {
	var victims []string
	for _, spot := range []bool{true, false} {
		for i := len(alive) - 1; i >= 0 && len(victims) < n; i-- {
			if alive[i].Spot == spot {
				victims = append(victims, alive[i].InstanceID)
			}
		}
	}
	return victims
}
