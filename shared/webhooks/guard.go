package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/batchplane/batchplane/shared/errs"
)

// MaxURL bounds a webhook URL (browsers and proxies agree on about 2 KB).
const MaxURL = 2048

// Guard is the address policy of outbound webhooks (SSRF): a receiver must
// be a public address, checked when a webhook is registered (CheckURL,
// CheckResolved) and again on the address actually dialled (CheckAddr, from
// the deliver package's dialer), so DNS that changes between the two cannot
// reach an internal address.
type Guard struct {
	// AllowLoopback admits 127.0.0.0/8 and ::1, and plain http to a
	// loopback literal (http://127.0.0.1:<port>): local development only
	// (WEBHOOKS_ALLOW_LOOPBACK=1 make run), never in AWS.
	AllowLoopback bool
}

// EnvAllowLoopback, set to "1", admits loopback receivers under make run
// (WEBHOOKS_ALLOW_LOOPBACK=1 make run): local development only. Only the
// local runtime's wiring reads it; the Lambda start-up never does, so a
// stray variable in AWS opens nothing.
const EnvAllowLoopback = "WEBHOOKS_ALLOW_LOOPBACK"

// LocalGuard returns the local runtime's guard from its environment
// (getenv is os.Getenv): loopback only for exactly "1".
func LocalGuard(getenv func(string) string) Guard {
	return Guard{AllowLoopback: getenv(EnvAllowLoopback) == "1"}
}

// ForbiddenError is a refused address and the class that refuses it.
type ForbiddenError struct {
	Addr  netip.Addr
	Class string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("address %s is %s", e.Addr, e.Class)
}

// forbidden lists the refused ranges, most specific first (the first match
// names the class). Anything in IPv6 outside 2000::/3 is refused too.
var forbidden = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("169.254.169.254/32"), "the cloud metadata service (link-local)"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "the cloud metadata service (unique-local)"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified"},
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" (0.0.0.0/8)`},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (10.0.0.0/8)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT, 100.64.0.0/10)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (172.16.0.0/12)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (192.168.0.0/16)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible IPv6 (deprecated)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64 (64:ff9b::/96)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64, local use (64:ff9b:1::/48)"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/32"), "Teredo"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking"},
	{netip.MustParsePrefix("2001:10::/28"), "ORCHID"},
	{netip.MustParsePrefix("2001:20::/28"), "ORCHIDv2"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4"},
	{netip.MustParsePrefix("3fff::/20"), "documentation"},
	{netip.MustParsePrefix("5f00::/16"), "SRv6"},
	{netip.MustParsePrefix("fc00::/7"), "unique-local (fc00::/7)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// CheckAddr returns a *ForbiddenError unless a is an address a webhook
// may be delivered to.
func (g Guard) CheckAddr(a netip.Addr) error {
	if !a.IsValid() {
		return &ForbiddenError{Addr: a, Class: "not an IP address"}
	}
	if a.Zone() != "" {
		return &ForbiddenError{Addr: a, Class: "a scoped (zoned) address"}
	}
	if a.Is4In6() {
		// ::ffff:10.0.0.1 is 10.0.0.1 on a dual-stack socket; a resolver
		// never needs to hand us one, so none passes.
		class := "IPv4-mapped IPv6"
		if err := g.CheckAddr(a.Unmap()); err != nil {
			class += " of " + err.(*ForbiddenError).Error()
		}
		return &ForbiddenError{Addr: a, Class: class}
	}
	if g.AllowLoopback && a.IsLoopback() {
		return nil
	}
	for _, f := range forbidden {
		if f.prefix.Contains(a) {
			return &ForbiddenError{Addr: a, Class: f.class}
		}
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return &ForbiddenError{Addr: a, Class: "not global unicast IPv6"}
	}
	return nil
}

// urlErr is the 400 naming the url field.
func urlErr(cause error, format string, args ...any) error {
	e := errs.Field("url", fmt.Sprintf(format, args...))
	e.Err = cause
	return e
}

// CheckURL validates a receiver URL's syntax and, when its host is an IP
// address (in any notation), that address. A host name is checked by
// CheckResolved.
func (g Guard) CheckURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, urlErr(nil, "url is required.")
	}
	if len(raw) > MaxURL {
		return nil, urlErr(nil, "url must be at most %d bytes.", MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return nil, urlErr(err, "url must be an absolute URL such as https://example.com/hook.")
	}
	if u.User != nil {
		return nil, urlErr(nil, "url must not contain a user name or password.")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, urlErr(err, "url has an invalid port %q.", p)
		}
	}
	addr, isIP, err := ParseHost(u.Hostname())
	if err != nil {
		if ferr := g.CheckAddr(addr); errors.Is(err, errNotation) && ferr != nil {
			err = fmt.Errorf("%w, and %v", err, ferr)
		}
		return nil, urlErr(err, "url host %q is %v.", u.Hostname(), err)
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https":
	case scheme == "http" && g.AllowLoopback && isIP && addr.IsLoopback():
	default:
		return nil, urlErr(nil, "url must use https.")
	}
	if isIP {
		if err := g.CheckAddr(addr); err != nil {
			return nil, urlErr(err, "url host %s is not allowed: %v.", u.Hostname(), err)
		}
		return u, nil
	}
	if name := strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")); !g.AllowLoopback && (name == "localhost" || strings.HasSuffix(name, ".localhost")) {
		return nil, urlErr(nil, "url host %s is loopback.", u.Hostname())
	}
	return u, nil
}

// CheckResolved resolves u's host name with r and refuses the URL if any
// address it resolves to is forbidden (a name with one internal address
// could be answered with it at send time). Resolved addresses are unmapped
// first: Go's resolver hands IPv4 from /etc/hosts or cgo back in the
// 16-byte form, and a mapped address is dialled as its IPv4 anyway.
func (g Guard) CheckResolved(ctx context.Context, r Resolver, u *url.URL) error {
	if _, isIP, _ := ParseHost(u.Hostname()); isIP {
		return nil // CheckURL checked the literal
	}
	host := u.Hostname()
	if r == nil {
		return errors.New("webhooks: no resolver configured to check a host name")
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return urlErr(err, "url host %s does not resolve.", host)
	}
	for _, a := range addrs {
		if err := g.CheckAddr(a.Unmap()); err != nil {
			return urlErr(err, "url host %s resolves to %v; webhooks may only call public addresses.", host, err)
		}
	}
	return nil
}

// errNotation refuses an IP address written other than canonically.
var errNotation = errors.New("an IP address in a non-standard notation")

// ParseHost classifies a URL host: an IP address (isIP, in the canonical
// notation only: a dotted quad or RFC 5952 IPv6), or a DNS name. A host that
// any URL parser or resolver could read as an IPv4 address — decimal
// (2130706433), octal (0177.0.0.1), hex (0x7f.1), short forms (127.1) — is
// an error naming the address it means, so no notation smuggles one past
// the check.
func ParseHost(host string) (addr netip.Addr, isIP bool, err error) {
	h := strings.TrimSuffix(host, ".")
	if h == "" {
		return netip.Addr{}, false, errors.New("empty")
	}
	if strings.Contains(h, ":") {
		a, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}, false, errors.New("not a valid IPv6 address")
		}
		if a.Zone() != "" {
			return netip.Addr{}, false, errors.New("a scoped (zoned) IPv6 address")
		}
		return a, true, nil
	}
	labels := strings.Split(h, ".")
	if numeric(labels[len(labels)-1]) {
		// WHATWG URL: a host whose last label is a number is IPv4.
		a, ok := parseIPv4(labels)
		switch {
		case !ok:
			return netip.Addr{}, false, errors.New("not a valid IPv4 address")
		case a.String() != h:
			return a, false, fmt.Errorf("%w (it means %s)", errNotation, a)
		}
		return a, true, nil
	}
	if len(h) > 253 {
		return netip.Addr{}, false, errors.New("longer than 253 characters")
	}
	for _, l := range labels {
		if !validLabel(l) {
			return netip.Addr{}, false, errors.New("not a valid host name (letters, digits and hyphens; IDNs as xn--)")
		}
	}
	return netip.Addr{}, false, nil
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 {
		return false
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// numeric reports whether s reads as a number to the WHATWG IPv4 parser.
func numeric(s string) bool {
	if s == "" {
		return false
	}
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
		for _, c := range s {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseIPv4 is the WHATWG IPv4 parser (inet_aton's rules): 1 to 4 parts,
// each decimal, octal (leading 0) or hex (0x); the last fills the
// remaining bytes.
func parseIPv4(parts []string) (netip.Addr, bool) {
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v = v<<8 | n
			continue
		}
		rest := uint(5-len(parts)) * 8
		if n >= 1<<rest {
			return netip.Addr{}, false
		}
		v = v<<rest | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Part(p string) (uint64, bool) {
	base := 10
	switch {
	case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
		p, base = p[2:], 16
		if p == "" {
			return 0, true
		}
	case len(p) >= 2 && p[0] == '0':
		p, base = p[1:], 8
	case p == "":
		return 0, false
	}
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil || n > 1<<32 {
		return 0, false
	}
	return n, true
}
