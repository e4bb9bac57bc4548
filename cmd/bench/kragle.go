package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/kragle"
	"github.com/batchplane/batchplane/shared/local"
	"github.com/batchplane/batchplane/shared/store"
)

// benchClock is the scheduler's clock, moved by the bench: each step puts
// a firing's time at "now", so the time until the firing is its lateness
// under the real scheduler loop (its tick phase plus one pass: the due
// Query, the claim and the run's start or the overlap skip).
type benchClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *benchClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *benchClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// kragleLateness measures make run's scheduler: 100 firings of a Kragle
// job on a 60-second schedule whose stack is an ASG job, on its own
// runtime and table (the first firing starts a run; the run still going,
// the next 99 are overlap skips, each still a claimed firing). Each step
// follows a firing, so it lands just after a tick: the figure is the
// tick's worst phase, not its average.
func kragleLateness(ctx context.Context, db *dynamodb.Client, root string, sealer identity.Sealer) {
	fmt.Println("== Kragle: make run's scheduler firing lateness, 100 firings (issue 9)")
	table := fmt.Sprintf("bench-kragle-%d", time.Now().UnixNano())
	must(0, store.CreateTable(ctx, db, table))
	clk := &benchClock{t: time.Now().UTC().Truncate(time.Minute)}
	fired := make(chan kragle.Fired, 1)
	rt := must(local.Wire(ctx, local.WireOptions{DB: db, Table: table, Sealer: sealer, Root: root, NoDispatch: true,
		Now: clk.now, OnFire: func(f kragle.Fired) { fired <- f }}))
	defer rt.Close()
	nk, _ := must2(rt.Service.Identity.Bootstrap(ctx, "admin@kragle.bench"))
	srv := httptest.NewServer(rt.Service.API)
	defer srv.Close()
	c := client{base: srv.URL, auth: "ApiKey " + nk.AccessKey + ":" + nk.SecretKey}
	_, acc := c.do("POST", "/api/accounts/CloudFrontAWS", map[string]any{"Name": "bench", "BaseRegion": "us-east-1",
		"RoleArn": "arn:aws:iam::123456789012:role/batchplane"})
	_, job := c.do("POST", "/api/v2/apps/AutoScalingGroup/Add", map[string]any{"AccountId": acc["Data"].(map[string]any)["Id"],
		"Name": "bench", "AutoScalingGroupName": "local-asg"})
	_, sc := c.do("POST", "/schedules", map[string]any{"config": map[string]any{"period": 60}})
	if st, _ := c.do("POST", "/jobs", map[string]any{"schedule_id": sc["id"], "stack_id": job["Job"].(map[string]any)["Id"], "enabled": true}); st != 200 {
		fmt.Println("could not create the Kragle job:", st)
		miss++
		return
	}
	var late []time.Duration
	skipped := 0
	for range 100 {
		start := time.Now()
		clk.add(time.Minute)
		select {
		case f := <-fired:
			late = append(late, time.Since(start))
			if f.Skipped != "" {
				skipped++
			}
		case <-time.After(5 * time.Second):
			fmt.Println("a firing did not happen within 5 s")
			miss++
			return
		}
	}
	slices.Sort(late)
	p50, p99 := late[len(late)/2], late[len(late)*99/100]
	fmt.Printf("lateness p50 %.0f ms, p99 %.0f ms (tick %v; %d overlap skips)   goal p99 < 1 s  %s\n\n",
		ms(p50), ms(p99), local.DefaultScheduleEvery, skipped, verdict(p99 < time.Second))
}
