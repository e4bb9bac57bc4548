package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

func (c *Cloud) setStateLocked(in *instance, s string) {
	if in.State == s {
		return
	}
	in.State = s
	if s == cloud.StateShuttingDown || s == cloud.StateTerminated {
		if in.StopTime == nil {
			t := c.now()
			in.StopTime = &t
		}
		c.killLocked(in.ID)
	}
	c.emitLocked(in, "EC2 Instance State-change Notification", map[string]string{"instance-id": in.ID, "state": s})
}

func (c *Cloud) startProcess(in *instance) {
	cmd := exec.Command("/bin/sh", "-c", in.UserData)
	cmd.Env = append(os.Environ(), "BATCHPLANE_INSTANCE_ID="+in.ID, "BATCHPLANE_RUN_ID="+in.Tags[cloud.TagRun])
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return
	}
	in.pid, in.cpuStart = cmd.Process.Pid, time.Now()
	c.procs[in.ID] = cmd
	go func() { _ = cmd.Wait() }()
}

func (c *Cloud) killLocked(id string) {
	if cmd, ok := c.procs[id]; ok {
		if in, ok := c.st.Instances[id]; ok && in.pid != 0 {
			v := cpuPercent(in.pid, in.cpuStart)
			in.FinalCPU, in.pid = &v, 0
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		delete(c.procs, id)
	}
}

// Launch implements cloud.Compute.
func (c *Cloud) Launch(ctx context.Context, t cloud.Target, s cloud.LaunchSpec) ([]cloud.Instance, error) {
	if len(s.ClientToken) > 64 {
		return nil, fmt.Errorf("local cloud: ClientToken longer than 64 characters")
	}
	if s.Count <= 0 || s.InstanceType == "" {
		return nil, fmt.Errorf("local cloud: count and instance type are required")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tok := t.AccountID + "/" + s.ClientToken
	if ids, ok := c.st.Tokens[tok]; ok && s.ClientToken != "" {
		return c.describeLocked(ids), nil
	}
	if s.Market == cloud.Spot {
		if limit, ok := c.spot[s.InstanceType]; ok {
			running := 0
			for _, in := range c.st.Instances {
				if in.Market == cloud.Spot && in.InstanceType == s.InstanceType && in.State == cloud.StateRunning {
					running++
				}
			}
			if running+s.Count > limit {
				return nil, fmt.Errorf("local cloud: no spot capacity for %d %s: %w", s.Count, s.InstanceType, cloud.ErrInsufficientCapacity)
			}
		}
	}
	var ids []string
	now := c.now()
	for i := 0; i < s.Count; i++ {
		c.st.Seq++
		zone := t.Region + string(rune('a'+c.st.Seq%3))
		tags := map[string]string{cloud.TagRun: s.RunID, cloud.TagJob: s.JobID, cloud.TagAccount: t.AccountID}
		for k, v := range s.Tags {
			tags[k] = v
		}
		in := &instance{Instance: cloud.Instance{ID: "i-" + randHex(17), InstanceType: s.InstanceType, AvailabilityZone: zone,
			SubnetID: fmt.Sprintf("subnet-local%04d", c.st.Seq%3), PrivateIP: fmt.Sprintf("10.0.%d.%d", c.st.Seq/250, c.st.Seq%250+4),
			Market: s.Market, State: cloud.StatePending, Healthy: true, LaunchTime: now, Tags: tags},
			Account: t.AccountID, Region: t.Region, UserData: s.UserData}
		c.st.Instances[in.ID] = in
		c.emitLocked(in, "EC2 Instance State-change Notification", map[string]string{"instance-id": in.ID, "state": cloud.StatePending})
		c.setStateLocked(in, cloud.StateRunning)
		if in.UserData != "" {
			c.startProcess(in)
		}
		ids = append(ids, in.ID)
	}
	if s.ClientToken != "" {
		c.st.Tokens[tok] = ids
	}
	c.saveLocked()
	return c.describeLocked(ids), nil
}

func (c *Cloud) describeLocked(ids []string) []cloud.Instance {
	var out []cloud.Instance
	for _, id := range ids {
		if in, ok := c.st.Instances[id]; ok {
			cp := in.Instance
			cp.Tags = map[string]string{}
			for k, v := range in.Tags {
				cp.Tags[k] = v
			}
			out = append(out, cp)
		}
	}
	return out
}

// Terminate implements cloud.Compute.
func (c *Cloud) Terminate(ctx context.Context, t cloud.Target, ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		in, ok := c.st.Instances[id]
		if !ok || in.State == cloud.StateTerminated {
			continue
		}
		c.setStateLocked(in, cloud.StateShuttingDown)
		c.setStateLocked(in, cloud.StateTerminated)
		for _, g := range c.st.Groups {
			g.InstanceIDs = slices.DeleteFunc(g.InstanceIDs, func(x string) bool { return x == id })
		}
	}
	c.saveLocked()
	return nil
}

// Describe implements cloud.Compute.
func (c *Cloud) Describe(ctx context.Context, t cloud.Target, ids []string) ([]cloud.Instance, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.describeLocked(ids), nil
}

// DescribeRun implements cloud.Compute.
func (c *Cloud) DescribeRun(ctx context.Context, t cloud.Target, runID string) ([]cloud.Instance, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for id, in := range c.st.Instances {
		if in.Tags[cloud.TagRun] == runID && in.Account == t.AccountID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return c.describeLocked(ids), nil
}
