// Package local implements the cloud interfaces on this machine for `make
// run` and the tests: instances are records with types, zones, lifecycle
// and times; an instance's launch script (user data) runs as a real
// process whose CPU use is measured; every account starts with a sample
// Auto Scaling group; spot interruptions and unhealthy instances can be
// injected. Instance state changes are published as the EventBridge events
// AWS sends, so the same handler code processes local and AWS events.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

var (
	_ cloud.Compute       = (*Cloud)(nil)
	_ cloud.AutoScaling   = (*Cloud)(nil)
	_ cloud.Metrics       = (*Cloud)(nil)
	_ cloud.Roles         = (*Cloud)(nil)
	_ cloud.LoadBalancing = (*Cloud)(nil)
)

// Options configure the local cloud.
type Options struct {
	// StateFile keeps instances and groups between runs ("" = memory only).
	StateFile string
	// OnEvent receives EventBridge events (JSON) one at a time, in order.
	OnEvent func(raw []byte)
	// InterruptionDelay is how long after a spot interruption warning the
	// instance is terminated (AWS: two minutes).
	InterruptionDelay time.Duration
	Now               func() time.Time
}

type instance struct {
	cloud.Instance
	Account, Region string
	UserData        string
	// FinalCPU is the process's CPU use measured when it was killed.
	FinalCPU *float64
	pid      int
	cpuStart time.Time
}

type group struct {
	cloud.Group
	Account, Region string
}

type state struct {
	Instances map[string]*instance
	Groups    map[string]*group
	Tokens    map[string][]string
	Seq       int
	// Registered lists the instances registered with each load balancer
	// (key: account/region/name-or-ARN). Every load balancer exists here.
	Registered map[string][]string
}

// Cloud is the local cloud.
type Cloud struct {
	o      Options
	mu     sync.Mutex
	st     state
	spot   map[string]int // spot capacity per instance type; absent = unlimited
	procs  map[string]*exec.Cmd
	events chan []byte
	done   chan struct{}
	// lastEvent keeps event times strictly increasing, as consecutive
	// EC2 state changes of one instance are in AWS.
	lastEvent time.Time
	// dropEvents loses events, to show the safety sweep repairing runs.
	dropEvents bool
}

// DropEvents makes the cloud lose (drop = true) or deliver its events.
func (c *Cloud) DropEvents(drop bool) {
	c.mu.Lock()
	c.dropEvents = drop
	c.mu.Unlock()
}

// New starts the local cloud, loading StateFile if it exists.
func New(o Options) (*Cloud, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.InterruptionDelay == 0 {
		o.InterruptionDelay = 2 * time.Second
	}
	c := &Cloud{o: o, st: state{Instances: map[string]*instance{}, Groups: map[string]*group{}, Tokens: map[string][]string{}},
		spot: map[string]int{}, procs: map[string]*exec.Cmd{}, events: make(chan []byte, 1024), done: make(chan struct{})}
	if o.StateFile != "" {
		if b, err := os.ReadFile(o.StateFile); err == nil {
			if err := json.Unmarshal(b, &c.st); err != nil {
				return nil, fmt.Errorf("local cloud: %s: %w", o.StateFile, err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	for _, in := range c.st.Instances {
		if in.State == cloud.StateRunning && in.UserData != "" {
			c.startProcess(in)
		}
	}
	go c.dispatch()
	return c, nil
}

func (c *Cloud) dispatch() {
	defer close(c.done)
	for raw := range c.events {
		if c.o.OnEvent != nil {
			c.o.OnEvent(raw)
		}
	}
}

// Close stops every launch-script process and the event dispatcher.
func (c *Cloud) Close() {
	c.mu.Lock()
	for id := range c.procs {
		c.killLocked(id)
	}
	c.mu.Unlock()
	close(c.events)
	<-c.done
}

func (c *Cloud) now() time.Time { return c.o.Now().UTC().Truncate(time.Millisecond) }

func (c *Cloud) saveLocked() {
	if c.o.StateFile == "" {
		return
	}
	b, err := json.MarshalIndent(c.st, "", " ")
	if err != nil {
		return
	}
	_ = os.MkdirAll(filepath.Dir(c.o.StateFile), 0o755)
	tmp := c.o.StateFile + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, c.o.StateFile)
	}
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// emitLocked queues an EventBridge event.
func (c *Cloud) emitLocked(in *instance, detailType string, detail map[string]string) {
	if c.dropEvents {
		return
	}
	d, _ := json.Marshal(detail)
	at := c.o.Now().UTC()
	if !at.After(c.lastEvent) {
		at = c.lastEvent.Add(time.Microsecond)
	}
	c.lastEvent = at
	ev := map[string]any{
		"version": "0", "id": randHex(8) + "-" + randHex(4) + "-" + randHex(4) + "-" + randHex(4) + "-" + randHex(12),
		"detail-type": detailType, "source": "aws.ec2", "account": "000000000000",
		"time": at.Format(time.RFC3339Nano), "region": in.Region,
		"resources": []string{"arn:aws:ec2:" + in.Region + ":000000000000:instance/" + in.ID},
		"detail":    json.RawMessage(d),
	}
	b, _ := json.Marshal(ev)
	select {
	case c.events <- b:
	default: // a full queue drops the event; the safety sweep repairs it
	}
}

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

// SetSpotCapacity limits running spot instances of a type (n < 0: unlimited).
func (c *Cloud) SetSpotCapacity(instanceType string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 0 {
		delete(c.spot, instanceType)
		return
	}
	c.spot[instanceType] = n
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

// InjectSpotInterruption sends the two-minute warning for a spot instance
// and terminates it after Options.InterruptionDelay.
func (c *Cloud) InjectSpotInterruption(id string) error {
	c.mu.Lock()
	in, ok := c.st.Instances[id]
	if !ok {
		c.mu.Unlock()
		return fmt.Errorf("instance %s: %w", id, cloud.ErrNotFound)
	}
	if in.Market != cloud.Spot || in.State != cloud.StateRunning {
		c.mu.Unlock()
		return fmt.Errorf("instance %s is not a running spot instance", id)
	}
	c.emitLocked(in, "EC2 Spot Instance Interruption Warning", map[string]string{"instance-id": id, "instance-action": "terminate"})
	c.mu.Unlock()
	time.AfterFunc(c.o.InterruptionDelay, func() {
		_ = c.Terminate(context.Background(), cloud.Target{AccountID: in.Account, Region: in.Region}, []string{id})
	})
	return nil
}

// InjectUnhealthy makes an instance fail its health checks.
func (c *Cloud) InjectUnhealthy(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, ok := c.st.Instances[id]
	if !ok {
		return fmt.Errorf("instance %s: %w", id, cloud.ErrNotFound)
	}
	in.Healthy = false
	c.saveLocked()
	return nil
}

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
	c.mu.Lock()
	defer c.mu.Unlock()
	g, err := c.groupLocked(t, name)
	if err != nil {
		return err
	}
	if processes == nil {
		processes = []string{"Launch", "Terminate", "HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification", "ScheduledActions", "AddToLoadBalancer"}
	}
	for _, p := range processes {
		if !slices.Contains(g.SuspendedProcesses, p) {
			g.SuspendedProcesses = append(g.SuspendedProcesses, p)
		}
	}
	c.saveLocked()
	return nil
}

// ResumeProcesses implements cloud.AutoScaling.
func (c *Cloud) ResumeProcesses(ctx context.Context, t cloud.Target, name string, processes []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, err := c.groupLocked(t, name)
	if err != nil {
		return err
	}
	if processes == nil {
		g.SuspendedProcesses = nil
	} else {
		g.SuspendedProcesses = slices.DeleteFunc(g.SuspendedProcesses, func(p string) bool { return slices.Contains(processes, p) })
	}
	c.saveLocked()
	return nil
}

// SetMaxSize implements cloud.AutoScaling.
func (c *Cloud) SetMaxSize(ctx context.Context, t cloud.Target, name string, max int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, err := c.groupLocked(t, name)
	if err != nil {
		return err
	}
	if max < g.MinSize || max < g.DesiredCapacity {
		return fmt.Errorf("max size %d below min %d or desired %d", max, g.MinSize, g.DesiredCapacity)
	}
	g.MaxSize = max
	c.saveLocked()
	return nil
}

// AttachInstances implements cloud.AutoScaling.
func (c *Cloud) AttachInstances(ctx context.Context, t cloud.Target, name string, ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, err := c.groupLocked(t, name)
	if err != nil {
		return err
	}
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
	c.saveLocked()
	return nil
}

// DetachInstances implements cloud.AutoScaling (decrementing desired).
func (c *Cloud) DetachInstances(ctx context.Context, t cloud.Target, name string, ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, err := c.groupLocked(t, name)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if i := slices.Index(g.InstanceIDs, id); i >= 0 {
			g.InstanceIDs = slices.Delete(g.InstanceIDs, i, i+1)
			g.DesiredCapacity = max(g.DesiredCapacity-1, 0)
		}
	}
	c.saveLocked()
	return nil
}

// idleCPU is what an instance without a launch script reports.
const idleCPU = 2.0

// AverageCPU implements cloud.Metrics: launch-script processes are measured
// from /proc (percent of one core since they started); instances without a
// script report an idle 2%.
func (c *Cloud) AverageCPU(ctx context.Context, t cloud.Target, ids []string, from, to time.Time) (float64, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum float64
	n := 0
	for _, id := range ids {
		in, ok := c.st.Instances[id]
		if !ok {
			continue
		}
		n++
		switch {
		case in.FinalCPU != nil:
			sum += *in.FinalCPU
			continue
		case in.pid == 0:
			sum += idleCPU
			continue
		}
		sum += cpuPercent(in.pid, in.cpuStart)
	}
	if n == 0 {
		return 0, false, nil
	}
	return sum / float64(n), true, nil
}

// cpuPercent reads a process's user+system time (with waited-for
// children) from /proc and divides it by its wall time.
func cpuPercent(pid int, start time.Time) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0
	}
	var ticks float64
	for _, k := range []int{11, 12, 13, 14} { // utime stime cutime cstime
		v, _ := strconv.ParseFloat(f[k], 64)
		ticks += v
	}
	wall := time.Since(start).Seconds()
	if wall <= 0 {
		return 0
	}
	return ticks / 100 / wall * 100 // USER_HZ is 100 on Linux
}

// Check implements cloud.Roles: locally every well-formed role is assumable.
func (c *Cloud) Check(ctx context.Context, t cloud.Target) error {
	if !strings.HasPrefix(t.RoleArn, "arn:aws:iam::") {
		return fmt.Errorf("role %q: %w", t.RoleArn, cloud.ErrAccessDenied)
	}
	return nil
}

// Cloud returns the local cloud as a cloud.Cloud.
func (c *Cloud) Cloud() cloud.Cloud {
	return cloud.Cloud{Compute: c, AutoScaling: c, Metrics: c, Roles: c, LoadBalancing: c}
}

func lbKeys(t cloud.Target, lb cloud.LoadBalancers) []string {
	var keys []string
	for _, n := range append(slices.Clone(lb.ClassicNames), lb.TargetGroupARNs...) {
		keys = append(keys, t.AccountID+"/"+t.Region+"/"+n)
	}
	return keys
}

// Register implements cloud.LoadBalancing: the instances must exist and
// not be terminated, as EC2 load balancers require.
func (c *Cloud) Register(ctx context.Context, t cloud.Target, lb cloud.LoadBalancers, ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if in, ok := c.st.Instances[id]; !ok || in.State == cloud.StateTerminated || in.State == cloud.StateShuttingDown {
			return fmt.Errorf("register %s: the instance is not running: %w", id, cloud.ErrNotFound)
		}
	}
	if c.st.Registered == nil {
		c.st.Registered = map[string][]string{}
	}
	for _, k := range lbKeys(t, lb) {
		for _, id := range ids {
			if !slices.Contains(c.st.Registered[k], id) {
				c.st.Registered[k] = append(c.st.Registered[k], id)
			}
		}
	}
	c.saveLocked()
	return nil
}

// Deregister implements cloud.LoadBalancing.
func (c *Cloud) Deregister(ctx context.Context, t cloud.Target, lb cloud.LoadBalancers, ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.Registered == nil {
		return nil
	}
	for _, k := range lbKeys(t, lb) {
		c.st.Registered[k] = slices.DeleteFunc(c.st.Registered[k], func(x string) bool { return slices.Contains(ids, x) })
	}
	c.saveLocked()
	return nil
}

// Registered returns the instances registered with a load balancer (a
// classic name or a target group ARN) of a target.
func (c *Cloud) Registered(t cloud.Target, name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.st.Registered[t.AccountID+"/"+t.Region+"/"+name])
}
