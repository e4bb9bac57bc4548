package local

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/batchplane/batchplane/shared/cloud"
)

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
