package local

import (
	"context"
	"fmt"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

// DropEvents makes the cloud lose (drop = true) or deliver its events.
func (c *Cloud) DropEvents(drop bool) {
	c.mu.Lock()
	c.dropEvents = drop
	c.mu.Unlock()
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
