package schedules

import (
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/errs"
)

var fuzzZones = []string{"", "America/New_York", "Australia/Sydney", "Europe/London", "Asia/Kolkata", "Pacific/Chatham"}

// FuzzParse: parsing never panics; a parsed schedule's canonical expression
// parses to itself; Next is strictly after its argument, monotonic, and
// really the first fire (nothing fires between after and Next(after)).
// Run it with: go test ./shared/schedules -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	for _, tc := range nextCases {
		f.Add(tc.expr, uint8(1), int64(1767225600), int64(86400))
	}
	for _, e := range []string{"rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(1 day)", "cron(0 0 1 * MON *)",
		"cron(*/61 * * * ? *)", "cron(0 0 ? * 3#1,6#3 *)", "cron(0 0 LW * ? *)", "at(2026-03-08T02:30:00)", "cron(0-59/7 20-3 25-5W * ? 2026)"} {
		f.Add(e, uint8(0), int64(1772953200), int64(3600))
	}
	created := time.Unix(1767225600, 0)
	span := horizon.Unix() - time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	f.Fuzz(func(t *testing.T, expr string, zone uint8, after, delta int64) {
		c := Config{Expression: &expr}
		if tz := fuzzZones[int(zone)%len(fuzzZones)]; tz != "" {
			c.Timezone = &tz
		}
		s, err := New(c, created)
		if err != nil {
			return
		}
		again, err := New(Config{Expression: &s.expr, Timezone: c.Timezone}, created)
		if err != nil || again.Expression() != s.Expression() {
			t.Fatalf("canonical %q of %q does not parse to itself: %v", s.Expression(), expr, err)
		}
		t1 := time.Unix(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).Unix()+mod(after, span), 0)
		t2 := t1.Add(time.Duration(mod(delta, 400*86400)) * time.Second)
		n1, ok1 := s.Next(t1)
		n2, ok2 := s.Next(t2)
		if ok1 && !n1.After(t1) {
			t.Fatalf("%s: Next(%s) = %s, not after", expr, t1, n1)
		}
		if ok2 && (!ok1 || n2.Before(n1)) {
			t.Fatalf("%s: not monotonic: Next(%s) = %s %v, Next(%s) = %s %v", expr, t1, n1, ok1, t2, n2, ok2)
		}
		if !ok1 {
			return
		}
		if mid := t1.Add(n1.Sub(t1) / 2); mid.Before(n1) {
			if got, ok := s.Next(mid); !ok || !got.Equal(n1) {
				t.Fatalf("%s: Next(%s) = %s but Next(%s) = %s %v: a fire was skipped", expr, t1, n1, mid, got, ok)
			}
		}
		if n3, ok := s.Next(n1); ok && !n3.After(n1) {
			t.Fatalf("%s: Next(%s) = %s, not after", expr, n1, n3)
		}
	})
}

// mod is v modulo m, never negative.
func mod(v, m int64) int64 {
	if r := v % m; r >= 0 {
		return r
	}
	return v%m + m
}

// FuzzDecodeConfig: any bytes decode to a config or an errs.Invalid, and a
// decoded config validates without panicking.
func FuzzDecodeConfig(f *testing.F) {
	for _, s := range []string{`{"period": 3600}`, `{"timestamp": 1795179600}`, `{"expression": "cron(0 10 * * ? *)", "timezone": "Europe/Paris", "start": 1, "end": 2}`,
		`{"period": "60"}`, `{"period": 60.5}`, `{"every": 5}`, `[]`, `null`, `{"expression": null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := DecodeConfig(raw)
		if err != nil {
			if e := errs.As(err); e == nil || e.Code != errs.Invalid {
				t.Fatalf("DecodeConfig(%q): %v, want an errs.Invalid", raw, err)
			}
			return
		}
		s, err := New(c, time.Unix(1767225600, 0))
		if err != nil {
			if e := errs.As(err); e == nil || e.Code != errs.Invalid || e.Message == "" {
				t.Fatalf("New(%q): %v, want an errs.Invalid with a message", raw, err)
			}
			return
		}
		if n, ok := s.Next(time.Unix(1767225600, 0)); ok && !n.After(time.Unix(1767225600, 0)) {
			t.Fatalf("%q: Next = %s, not after", raw, n)
		}
	})
}
