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
// from /proc (CPU demand in percent of one core since they started: see
// cpuPercent); instances without a
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

// cpuPercent is a process's CPU demand since it started, in percent of
// one core: the time it ran (user+system, with waited-for children) plus
// the time it sat runnable waiting for a core (/proc/<pid>/schedstat),
// over its wall time. A local instance stands for a machine of its own,
// so the host's other work must not make a busy script look idle: on a
// loaded 2-core machine a busy loop runs ~8% of the time and waits the
// rest, and it is still busy. Without schedstat it is the run time alone.
func cpuPercent(pid int, start time.Time) float64 {
	wall := time.Since(start).Seconds()
	if wall <= 0 {
		return 0
	}
	pct := (ranSeconds(pid) + waitedSeconds(pid)) / wall * 100
	return min(pct, 100)
}

// ranSeconds reads utime, stime, cutime and cstime from /proc/<pid>/stat.
func ranSeconds(pid int) float64 {
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
	return ticks / 100 // USER_HZ is 100 on Linux
}

// waitedSeconds reads the time the process spent runnable on a run queue
// (the second field of /proc/<pid>/schedstat, in nanoseconds).
func waitedSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	ns, _ := strconv.ParseFloat(f[1], 64)
	return ns / 1e9
}
