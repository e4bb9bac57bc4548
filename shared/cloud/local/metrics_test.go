package local

import (
	"os/exec"
	"testing"
	"time"
)

// TestCPUPercentIsDemand: a busy loop measures as busy and a sleeping
// script as idle, however loaded the machine running the test is (the
// time a busy process waits for a core counts as demand).
func TestCPUPercentIsDemand(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		min, max float64
	}{
		{"busy loop", "while :; do :; done", 50, 100},
		{"sleeping", "sleep 30", 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", tt.script)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			start := time.Now()
			time.Sleep(time.Second)
			if got := cpuPercent(cmd.Process.Pid, start); got < tt.min || got > tt.max {
				t.Fatalf("cpuPercent = %.1f%%, want %v..%v", got, tt.min, tt.max)
			}
		})
	}
}
