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
	"strings"
	"sync"
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
