package local

import (
	"context"
	"fmt"
	"slices"

	"github.com/batchplane/batchplane/shared/cloud"
)

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
