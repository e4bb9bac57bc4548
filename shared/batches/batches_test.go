package batches

import (
	"slices"
	"testing"
	"time"
)

func TestApply(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	running := Job{Status: Running, Attempt: 1, StartTime: &t0}
	tests := []struct {
		name        string
		job         Job
		event       Event
		wantChanged bool
		wantStatus  Status
		wantStart   *time.Time
		wantStop    bool
	}{
		{"forward", Job{Status: Submitted, Attempt: 1}, Event{Attempt: 1, Status: Runnable, At: t0}, true, Runnable, nil, false},
		{"running sets start", Job{Status: Runnable, Attempt: 1}, Event{Attempt: 1, Status: Running, At: t0}, true, Running, &t0, false},
		{"duplicate", running, Event{Attempt: 1, Status: Running, At: t1}, false, Running, &t0, false},
		{"late backwards", running, Event{Attempt: 1, Status: Runnable, At: t1}, false, Running, &t0, false},
		{"final", running, Event{Attempt: 1, Status: Succeeded, At: t1}, true, Succeeded, &t0, true},
		{"final once", Job{Status: Failed, Attempt: 1}, Event{Attempt: 1, Status: Succeeded, At: t1}, false, Failed, nil, false},
		{"other attempt", Job{Status: Submitted, Attempt: 2}, Event{Attempt: 1, Status: Running, At: t1}, false, Submitted, nil, false},
		{"unknown status", Job{Status: Submitted, Attempt: 1}, Event{Attempt: 1, Status: "CANCELLED", At: t1}, false, Submitted, nil, false},
		{"lost running: start from event", Job{Status: Runnable, Attempt: 1}, Event{Attempt: 1, Status: Succeeded, At: t1, StartedAt: &t0}, true, Succeeded, &t0, true},
		{"failed before start", Job{Status: Runnable, Attempt: 1}, Event{Attempt: 1, Status: Failed, At: t1}, true, Failed, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := Apply(tt.job, tt.event)
			if changed != tt.wantChanged || got.Status != tt.wantStatus {
				t.Fatalf("Apply = %s, %v; want %s, %v", got.Status, changed, tt.wantStatus, tt.wantChanged)
			}
			if (got.StartTime == nil) != (tt.wantStart == nil) || (got.StartTime != nil && !got.StartTime.Equal(*tt.wantStart)) {
				t.Errorf("StartTime = %v, want %v", got.StartTime, tt.wantStart)
			}
			if (got.StopTime != nil) != tt.wantStop {
				t.Errorf("StopTime = %v, want set %v", got.StopTime, tt.wantStop)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	now := time.Now()
	got, ok := Retry(Job{Status: Failed, Attempt: 1, Reason: "exit 1", ExternalID: "x"}, now)
	if !ok || got.Status != Submitted || got.Attempt != 2 || got.Reason != "" || got.ExternalID != "" {
		t.Fatalf("Retry(failed) = %+v, %v", got, ok)
	}
	if _, ok := Retry(Job{Status: Succeeded, Attempt: 1}, now); ok {
		t.Fatal("Retry(succeeded) = true, want false")
	}
	// An event of the failed attempt no longer moves the retried job.
	if _, changed := Apply(got, Event{Attempt: 1, Status: Failed, At: now}); changed {
		t.Fatal("event of the old attempt applied to the retry")
	}
}

func TestExpand(t *testing.T) {
	cmd := []string{"sh", "-c", `printf %s "$1" | sha256sum`, "sh", "{input}", "{input}", "awk '{print $1}'", "{not a name}", "x{input}"}
	if got, want := Placeholders(cmd), []string{"input"}; !slices.Equal(got, want) {
		t.Fatalf("Placeholders = %q, want %q", got, want)
	}
	argv, _, ok := Expand(cmd, map[string]string{"input": "a b; rm -rf /"})
	want := []string{"sh", "-c", `printf %s "$1" | sha256sum`, "sh", "a b; rm -rf /", "a b; rm -rf /", "awk '{print $1}'", "{not a name}", "x{input}"}
	if !ok || !slices.Equal(argv, want) {
		t.Fatalf("Expand = %q, %v; want %q", argv, ok, want)
	}
	if _, missing, ok := Expand(cmd, map[string]string{"other": "1"}); ok || missing != "input" {
		t.Fatalf("Expand without input = ok %v, missing %q", ok, missing)
	}
}
