package local

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/batchplane/batchplane/shared/cloud"
)

// SampleGroup is the group every local account starts with, per region.
const SampleGroup = "local-asg"

func groupKey(account, region, name string) string { return account + "/" + region + "/" + name }

// groupLocked returns a group, creating the sample group on first use.
func (c *Cloud) groupLocked(t cloud.Target, name string) (*group, error) {
	if g, ok := c.st.Groups[groupKey(t.AccountID, t.Region, name)]; ok {
		return g, nil
	}
	if name != SampleGroup {
		return nil, fmt.Errorf("auto scaling group %s: %w", name, cloud.ErrNotFound)
	}
	g := &group{Account: t.AccountID, Region: t.Region, Group: cloud.Group{Name: SampleGroup, MinSize: 1, MaxSize: 5, DesiredCapacity: 3,
		VPCID: "vpc-local0000", LaunchConfigurationName: "local-lc", SubnetIDs: []string{"subnet-local0000", "subnet-local0001"},
		AvailabilityZones: []string{t.Region + "a", t.Region + "b"}, HealthCheckGracePeriod: 60, DefaultCooldown: 300,
		Tags: map[string]string{"Name": SampleGroup}, InstanceType: "t3.micro", ImageID: "ami-local0000000000",
		SecurityGroupIDs: []string{"sg-local0000"}}}
	c.st.Groups[groupKey(t.AccountID, t.Region, name)] = g
	c.mu.Unlock()
	ins, err := c.Launch(context.Background(), t, cloud.LaunchSpec{Market: cloud.OnDemand, Count: 3, InstanceType: "t3.micro",
		ImageID: g.ImageID, ClientToken: "sample-" + t.Region, Tags: map[string]string{"aws:autoscaling:groupName": SampleGroup}})
	c.mu.Lock()
	if err != nil {
		return nil, err
	}
	for _, in := range ins {
		g.InstanceIDs = append(g.InstanceIDs, in.ID)
	}
	c.saveLocked()
	return g, nil
}

// CreateGroup adds a group to an account (local-only route).
func (c *Cloud) CreateGroup(t cloud.Target, g cloud.Group) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := groupKey(t.AccountID, t.Region, g.Name)
	if _, ok := c.st.Groups[k]; ok {
		return fmt.Errorf("group %s exists", g.Name)
	}
	c.st.Groups[k] = &group{Group: g, Account: t.AccountID, Region: t.Region}
	c.saveLocked()
	return nil
}

// ListGroups implements cloud.AutoScaling.
func (c *Cloud) ListGroups(ctx context.Context, t cloud.Target) ([]cloud.Group, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.groupLocked(t, SampleGroup); err != nil {
		return nil, err
	}
	var out []cloud.Group
	for _, g := range c.st.Groups {
		if g.Account == t.AccountID && g.Region == t.Region {
			out = append(out, g.Group)
		}
	}
	slices.SortFunc(out, func(a, b cloud.Group) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// GetGroup implements cloud.AutoScaling.
func (c *Cloud) GetGroup(ctx context.Context, t cloud.Target, name string) (cloud.Group, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, err := c.groupLocked(t, name)
	if err != nil {
		return cloud.Group{}, err
	}
	out := g.Group
	out.InstanceIDs = slices.Clone(g.InstanceIDs)
	return out, nil
}

// SetDesiredCapacity implements cloud.AutoScaling: like AWS, the group
// launches its own instances when its Launch process is not suspended.
func (c *Cloud) SetDesiredCapacity(ctx context.Context, t cloud.Target, name string, desired int) error {
	c.mu.Lock()
	g, err := c.groupLocked(t, name)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	if desired < g.MinSize || desired > g.MaxSize {
		c.mu.Unlock()
		return fmt.Errorf("desired %d outside [%d, %d]", desired, g.MinSize, g.MaxSize)
	}
	g.DesiredCapacity = desired
	missing := desired - len(g.InstanceIDs)
	launching := missing > 0 && !slices.Contains(g.SuspendedProcesses, "Launch")
	spec := cloud.LaunchSpec{Market: cloud.OnDemand, Count: missing, InstanceType: g.InstanceType, ImageID: g.ImageID,
		Tags: map[string]string{"aws:autoscaling:groupName": g.Name}}
	c.saveLocked()
	c.mu.Unlock()
	if launching {
		ins, err := c.Launch(ctx, t, spec)
		if err != nil {
			return err
		}
		c.mu.Lock()
		for _, in := range ins {
			g.InstanceIDs = append(g.InstanceIDs, in.ID)
		}
		c.saveLocked()
		c.mu.Unlock()
	}
	return nil
}

// SuspendProcesses implements cloud.AutoScaling.
func (c *Cloud) SuspendProcesses(ctx context.Context, t cloud.Target, name string, processes []string) error {
	return c.withGroup(t, name, func(g *group) error {
		if processes == nil {
			processes = []string{"Launch", "Terminate", "HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification", "ScheduledActions", "AddToLoadBalancer"}
		}
		for _, p := range processes {
			if !slices.Contains(g.SuspendedProcesses, p) {
				g.SuspendedProcesses = append(g.SuspendedProcesses, p)
			}
		}
		return nil
	})
}

// ResumeProcesses implements cloud.AutoScaling.
func (c *Cloud) ResumeProcesses(ctx context.Context, t cloud.Target, name string, processes []string) error {
	return c.withGroup(t, name, func(g *group) error {
		if processes == nil {
			g.SuspendedProcesses = nil
		} else {
			g.SuspendedProcesses = slices.DeleteFunc(g.SuspendedProcesses, func(p string) bool { return slices.Contains(processes, p) })
		}
		return nil
	})
}

// SetMaxSize implements cloud.AutoScaling.
func (c *Cloud) SetMaxSize(ctx context.Context, t cloud.Target, name string, max int) error {
	return c.withGroup(t, name, func(g *group) error {
		if max < g.MinSize || max < g.DesiredCapacity {
			return fmt.Errorf("max size %d below min %d or desired %d", max, g.MinSize, g.DesiredCapacity)
		}
		g.MaxSize = max
		return nil
	})
}

// AttachInstances implements cloud.AutoScaling.
func (c *Cloud) AttachInstances(ctx context.Context, t cloud.Target, name string, ids []string) error {
	return c.withGroup(t, name, func(g *group) error {
		added := 0
		for _, id := range ids {
			if !slices.Contains(g.InstanceIDs, id) {
				added++
			}
		}
		if g.DesiredCapacity+added > g.MaxSize {
			return fmt.Errorf("attaching %d instances would exceed the group's max size %d (ValidationError)", added, g.MaxSize)
		}
		for _, id := range ids {
			if !slices.Contains(g.InstanceIDs, id) {
				g.InstanceIDs = append(g.InstanceIDs, id)
				g.DesiredCapacity++
			}
		}
		return nil
	})
}

// DetachInstances implements cloud.AutoScaling (decrementing desired).
func (c *Cloud) DetachInstances(ctx context.Context, t cloud.Target, name string, ids []string) error {
	return c.withGroup(t, name, func(g *group) error {
		for _, id := range ids {
			if i := slices.Index(g.InstanceIDs, id); i >= 0 {
				g.InstanceIDs = slices.Delete(g.InstanceIDs, i, i+1)
				g.DesiredCapacity = max(g.DesiredCapacity-1, 0)
			}
		}
		return nil
	})
}

// withGroup runs f on a group (creating the sample group on first use)
// under the lock, and saves the state when f succeeds.
func (c *Cloud) withGroup(t cloud.Target, name string, f func(g *group) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, err := c.groupLocked(t, name)
	if err != nil {
		return err
	}
	if err := f(g); err != nil {
		return err
	}
	c.saveLocked()
	return nil
}
