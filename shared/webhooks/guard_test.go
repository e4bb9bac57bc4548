package webhooks

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/errs"
)

// mapResolver answers from a map and counts lookups; a name not in it does
// not resolve. No test ever asks real DNS.
type mapResolver map[string][]string

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := m[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// TestCheckAddr refuses every class of internal address and admits public
// ones; loopback only with AllowLoopback.
func TestCheckAddr(t *testing.T) {
	tests := []struct {
		name, addr string
		class      string // "" = allowed
	}{
		{"public v4", "93.184.216.34", ""},
		{"public v6", "2606:4700::1111", ""},
		{"loopback", "127.0.0.1", "loopback"},
		{"loopback other", "127.255.0.9", "loopback"},
		{"loopback v6", "::1", "loopback"},
		{"private 10/8", "10.0.0.1", "private"},
		{"private 172.16/12", "172.16.0.1", "private"},
		{"private 172.31", "172.31.255.254", "private"},
		{"not private 172.32", "172.32.0.1", ""},
		{"private 192.168/16", "192.168.1.1", "private"},
		{"link-local", "169.254.1.1", "link-local"},
		{"metadata", "169.254.169.254", "metadata"},
		{"metadata v6 (EC2)", "fd00:ec2::254", "metadata"},
		{"link-local v6", "fe80::1", "link-local"},
		{"unique-local fc", "fc00::1", "unique-local"},
		{"unique-local fd", "fd12:3456::1", "unique-local"},
		{"CGNAT", "100.64.0.1", "CGNAT"},
		{"CGNAT top", "100.127.255.254", "CGNAT"},
		{"unspecified", "0.0.0.0", "unspecified"},
		{"unspecified v6", "::", "unspecified"},
		{"this network 0/8", "0.1.2.3", "this network"},
		{"multicast", "224.0.0.1", "multicast"},
		{"multicast v6", "ff02::1", "multicast"},
		{"broadcast", "255.255.255.255", "broadcast"},
		{"reserved 240/4", "240.0.0.1", "reserved"},
		{"documentation", "192.0.2.1", "documentation"},
		{"benchmarking", "198.18.0.1", "benchmarking"},
		{"IPv4-mapped private", "::ffff:10.0.0.1", "IPv4-mapped IPv6 of address 10.0.0.1 is private"},
		{"IPv4-mapped loopback", "::ffff:127.0.0.1", "IPv4-mapped"},
		{"IPv4-mapped metadata", "::ffff:169.254.169.254", "metadata"},
		{"IPv4-mapped public", "::ffff:93.184.216.34", "IPv4-mapped"},
		{"IPv4-compatible", "::10.0.0.1", "IPv4-compatible"},
		{"NAT64", "64:ff9b::a00:1", "NAT64"},
		{"NAT64 local", "64:ff9b:1::1", "NAT64"},
		{"6to4", "2002:a00:1::1", "6to4"},
		{"Teredo", "2001::1", "Teredo"},
		{"site-local", "fec0::1", "site-local"},
		{"discard-only", "100::1", "discard-only"},
		{"documentation v6", "2001:db8::1", "documentation"},
		{"zoned", "fe80::1%eth0", "scoped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Guard{}.CheckAddr(netip.MustParseAddr(tt.addr))
			if tt.class == "" {
				if err != nil {
					t.Fatalf("%s refused: %v", tt.addr, err)
				}
				return
			}
			var fe *ForbiddenError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.class) {
				t.Fatalf("%s: got %v, want a refusal naming %q", tt.addr, err, tt.class)
			}
		})
	}
	for _, a := range []string{"127.0.0.1", "127.3.4.5", "::1"} {
		if err := (Guard{AllowLoopback: true}).CheckAddr(netip.MustParseAddr(a)); err != nil {
			t.Errorf("AllowLoopback refuses %s: %v", a, err)
		}
	}
	for _, a := range []string{"10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1", "0.0.0.0"} {
		if err := (Guard{AllowLoopback: true}).CheckAddr(netip.MustParseAddr(a)); err == nil {
			t.Errorf("AllowLoopback admits %s", a)
		}
	}
}

// TestCheckURL: syntax, scheme, userinfo, bounds and every notation of an
// IP address in the host, each a 400 naming url.
func TestCheckURL(t *testing.T) {
	tests := []struct {
		name, url string
		loopback  bool
		want      string // "" = accepted; else part of the url message
	}{
		{"https name", "https://hooks.example.com/in?x=1", false, ""},
		{"https public IP", "https://93.184.216.34:8443/in", false, ""},
		{"https public v6", "https://[2606:4700::1111]/in", false, ""},
		{"http refused", "http://hooks.example.com/in", false, "https"},
		{"ftp refused", "ftp://hooks.example.com/in", false, "https"},
		{"empty", "", false, "required"},
		{"relative", "/in", false, "absolute"},
		{"no host", "https:///in", false, "absolute"},
		{"opaque", "https:hooks.example.com", false, "absolute"},
		{"userinfo", "https://user:pw@hooks.example.com/", false, "user name"},
		{"user only", "https://user@hooks.example.com/", false, "user name"},
		{"too long", "https://hooks.example.com/" + strings.Repeat("a", MaxURL), false, "at most"},
		{"port 0", "https://hooks.example.com:0/", false, "port"},
		{"port too big", "https://hooks.example.com:70000/", false, "port"},
		{"loopback literal", "https://127.0.0.1/", false, "loopback"},
		{"localhost", "https://localhost:8080/", false, "loopback"},
		{"sub.localhost", "https://a.localhost/", false, "loopback"},
		{"private literal", "https://10.1.2.3/", false, "private"},
		{"metadata literal", "https://169.254.169.254/latest/meta-data/", false, "metadata"},
		{"v6 loopback", "https://[::1]/", false, "loopback"},
		{"v6 mapped", "https://[::ffff:10.0.0.1]/", false, "IPv4-mapped"},
		{"v6 mapped hex", "https://[::ffff:a00:1]/", false, "IPv4-mapped"},
		{"v6 zone", "https://[fe80::1%25eth0]/", false, "scoped"},
		{"decimal", "https://2130706433/", false, "means 127.0.0.1"},
		{"decimal metadata", "https://2852039166/", false, "means 169.254.169.254"},
		{"octal", "https://0177.0.0.1/", false, "means 127.0.0.1"},
		{"hex", "https://0x7f.1/", false, "means 127.0.0.1"},
		{"hex whole", "https://0x7f000001/", false, "means 127.0.0.1"},
		{"short form", "https://127.1/", false, "means 127.0.0.1"},
		{"short private", "https://10.1/", false, "means 10.0.0.1"},
		{"trailing dot", "https://127.0.0.1./", false, "loopback"},
		{"octal public still refused", "https://010.010.010.010/", false, "non-standard notation"},
		{"bad octal", "https://08.0.0.1/", false, "not a valid IPv4"},
		{"numeric tld", "https://hooks.123/", false, "not a valid IPv4"},
		{"five parts", "https://1.2.3.4.5/", false, "not a valid IPv4"},
		{"non-ascii", "https://bücher.example/", false, "not a valid host name"},
		{"http loopback allowed", "http://127.0.0.1:9000/hook", true, ""},
		{"http v6 loopback allowed", "http://[::1]:9000/hook", true, ""},
		{"http name still refused", "http://receiver.test:9000/hook", true, "https"},
		{"http private still refused", "http://10.0.0.1/", true, "https"},
		{"https private still refused", "https://192.168.0.1/", true, "private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Guard{AllowLoopback: tt.loopback}.CheckURL(tt.url)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("%s refused: %v", tt.url, err)
				}
				return
			}
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid || !strings.Contains(e.Fields["url"], tt.want) {
				t.Fatalf("%s: got %v, want a 400 on url saying %q", tt.url, err, tt.want)
			}
		})
	}
}

// TestCheckResolved refuses a name if any address it resolves to is
// forbidden, and a name that does not resolve.
func TestCheckResolved(t *testing.T) {
	r := mapResolver{
		"public.example":   {"93.184.216.34", "2606:4700::1111"},
		"private.example":  {"10.0.0.7"},
		"metadata.example": {"169.254.169.254"},
		"mixed.example":    {"93.184.216.34", "192.168.1.10"},
		"mapped.example":   {"::ffff:10.0.0.1"},
		"v4in16.example":   {"::ffff:93.184.216.34"},
		"maploop.example":  {"::ffff:127.0.0.1"},
		"loop.example":     {"127.0.0.1"},
	}
	tests := []struct {
		host     string
		loopback bool
		want     string
	}{
		{"public.example", false, ""},
		{"private.example", false, "private"},
		{"metadata.example", false, "metadata"},
		{"mixed.example", false, "192.168.1.10"},
		{"mapped.example", true, "10.0.0.1 is private"},
		{"v4in16.example", false, ""}, // Go's resolver returns /etc/hosts IPv4 this way
		{"maploop.example", false, "127.0.0.1 is loopback"},
		{"maploop.example", true, ""},
		{"loop.example", false, "loopback"},
		{"loop.example", true, ""},
		{"nowhere.example", false, "does not resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			g := Guard{AllowLoopback: tt.loopback}
			u, err := g.CheckURL("https://" + tt.host + "/hook")
			if err != nil {
				t.Fatal(err)
			}
			err = g.CheckResolved(context.Background(), r, u)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if e := errs.As(err); e == nil || !strings.Contains(e.Fields["url"], tt.want) {
				t.Fatalf("got %v, want a 400 on url saying %q", err, tt.want)
			}
		})
	}
}

// TestCheckResolvedWithoutResolver is an internal error, not a panic and
// not a pass.
func TestCheckResolvedWithoutResolver(t *testing.T) {
	g := Guard{}
	u, _ := g.CheckURL("https://hooks.example.com/")
	if err := g.CheckResolved(context.Background(), nil, u); err == nil || errs.CodeOf(err) != errs.Internal {
		t.Fatalf("got %v, want an internal error", err)
	}
}

// TestLocalGuard: only WEBHOOKS_ALLOW_LOOPBACK=1 admits loopback.
func TestLocalGuard(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "": false, "0": false, "true": false, "yes": false} {
		g := LocalGuard(func(k string) string {
			if k == EnvAllowLoopback {
				return v
			}
			return ""
		})
		if g.AllowLoopback != want {
			t.Errorf("%s=%q: AllowLoopback %v, want %v", EnvAllowLoopback, v, g.AllowLoopback, want)
		}
	}
}
