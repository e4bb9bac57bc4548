package webhooks

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseHost: any host gives an IP, a DNS name or an error without
// panicking; an IP is canonical; a name is no IP in any notation, so the
// guard's literal check cannot be bypassed by how a host is written.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.1", "127.1", "::ffff:10.0.0.1",
		"hooks.example.com", "hooks.123", "1.2.3.4.5", "0x", "08.1", "a..b", "xn--bcher-kva.example", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		a, isIP, err := ParseHost(host)
		if err != nil {
			return
		}
		h := strings.TrimSuffix(host, ".")
		if isIP {
			if !a.IsValid() || (a.String() != h && !strings.Contains(h, ":")) {
				t.Fatalf("%q: IP %v not canonical", host, a)
			}
			return
		}
		if _, perr := netip.ParseAddr(h); perr == nil {
			t.Fatalf("%q accepted as a name but is an IP address", host)
		}
		labels := strings.Split(h, ".")
		if _, ok := parseIPv4(labels); ok {
			t.Fatalf("%q accepted as a name but reads as IPv4", host)
		}
	})
}
