package deliver

import (
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/webhooks"
)

// TestControlChecksTheSocketAddress: the default dialer's Control hook,
// run by the kernel-facing dial with the address about to be connected,
// refuses internal addresses on its own.
func TestControlChecksTheSocketAddress(t *testing.T) {
	tests := []struct {
		addr     string
		loopback bool
		ok       bool
	}{
		{"93.184.216.34:443", false, true},
		{"[2606:4700::1111]:443", false, true},
		{"10.0.0.1:443", false, false},
		{"169.254.169.254:80", false, false},
		{"[::ffff:10.0.0.1]:443", false, false},
		{"[fe80::1]:443", false, false},
		{"127.0.0.1:8080", false, false},
		{"127.0.0.1:8080", true, true},
		{"[::1]:8080", true, true},
		{"192.168.1.1:443", true, false},
		{"not-an-address", false, false},
	}
	for _, tt := range tests {
		err := controlFor(webhooks.Guard{AllowLoopback: tt.loopback})("tcp", tt.addr, nil)
		if (err == nil) != tt.ok {
			t.Errorf("%s (loopback %v): %v, want ok=%v", tt.addr, tt.loopback, err, tt.ok)
		}
	}
}

// TestBackoffDoubles up to its cap.
func TestBackoffDoubles(t *testing.T) {
	b := Backoff{Base: 5 * time.Second, Max: time.Minute}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, b.Delay(n))
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	w := NewWorker(nil, nil, nil)
	for range 100 {
		if d := w.Jitter(10 * time.Second); d < 9*time.Second || d > 11*time.Second {
			t.Fatalf("jitter %v outside ±10%%", d)
		}
	}
}
