package local

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/batchplane/batchplane/shared/cloud"
)

var target = cloud.Target{AccountID: "A-1", RoleArn: "arn:aws:iam::123456789012:role/r", Region: "us-east-1"}

func newCloud(t *testing.T, o Options) *Cloud {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestSpotCapacity(t *testing.T) {
	c := newCloud(t, Options{})
	c.SetSpotCapacity("t3.micro", 2)
	launch := func(m cloud.Market, n int, token string) error {
		_, err := c.Launch(context.Background(), target, cloud.LaunchSpec{RunID: "R-1", Market: m, Count: n, InstanceType: "t3.micro", ClientToken: token})
		return err
	}
	tests := []struct {
		name      string
		market    cloud.Market
		count     int
		token     string
		wantShort bool
	}{
		{"within capacity", cloud.Spot, 2, "a", false},
		{"the same token again launches nothing", cloud.Spot, 2, "a", false},
		{"beyond capacity", cloud.Spot, 1, "b", true},
		{"on-demand is not limited", cloud.OnDemand, 3, "c", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := launch(tt.market, tt.count, tt.token)
			if got := errors.Is(err, cloud.ErrInsufficientCapacity); got != tt.wantShort {
				t.Fatalf("err = %v, want short = %v", err, tt.wantShort)
			}
		})
	}
	spot, od := 0, 0
	ins, _ := c.DescribeRun(context.Background(), target, "R-1")
	for _, in := range ins {
		if in.Market == cloud.Spot {
			spot++
		} else {
			od++
		}
	}
	if spot != 2 || od != 3 {
		t.Fatalf("launched %d spot, %d on-demand; want 2, 3", spot, od)
	}
	c.SetSpotCapacity("t3.micro", -1)
	if err := launch(cloud.Spot, 5, "d"); err != nil {
		t.Fatalf("unlimited again: %v", err)
	}
}

func TestGroupChangesAreSavedOnlyWhenValid(t *testing.T) {
	state := filepath.Join(t.TempDir(), "cloud.json")
	c := newCloud(t, Options{StateFile: state})
	ctx := context.Background()
	g, err := c.GetGroup(ctx, target, SampleGroup)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetMaxSize(ctx, target, SampleGroup, g.DesiredCapacity-1); err == nil {
		t.Fatal("max size below desired accepted")
	}
	if err := c.AttachInstances(ctx, target, SampleGroup, []string{"i-1", "i-2", "i-3"}); err == nil {
		t.Fatal("attach beyond max size accepted")
	}
	if err := c.SuspendProcesses(ctx, target, SampleGroup, []string{"Launch"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DetachInstances(ctx, target, SampleGroup, g.InstanceIDs[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroup(ctx, target, "nope"); !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("unknown group: %v", err)
	}

	// A second cloud reads what the first saved.
	d := newCloud(t, Options{StateFile: state})
	got, err := d.GetGroup(ctx, target, SampleGroup)
	if err != nil {
		t.Fatal(err)
	}
	if got.MaxSize != g.MaxSize || got.DesiredCapacity != g.DesiredCapacity-1 || len(got.InstanceIDs) != len(g.InstanceIDs)-1 {
		t.Fatalf("saved group: max %d desired %d instances %d; want %d %d %d",
			got.MaxSize, got.DesiredCapacity, len(got.InstanceIDs), g.MaxSize, g.DesiredCapacity-1, len(g.InstanceIDs)-1)
	}
	if len(got.SuspendedProcesses) != 1 || got.SuspendedProcesses[0] != "Launch" {
		t.Fatalf("suspended = %v", got.SuspendedProcesses)
	}
}
