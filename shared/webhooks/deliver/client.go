// Package deliver sends webhooks: an HTTP client whose dialer checks the
// address it actually connects to against webhooks.Guard (so a name that
// resolved to a public address at registration and to an internal one now
// is refused before any connection), that follows no redirect and bounds
// every phase in time; and a Worker that signs, sends, records each attempt
// and retries with exponential backoff.
package deliver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/batchplane/batchplane/shared/webhooks"
)

// Timeouts of one attempt. The specification suggests 15-30 s for a
// receiver to answer; 10 s in all keeps a Lambda's batch of deliveries
// short, and a slow receiver is retried like a failing one.
const (
	ConnectTimeout = 5 * time.Second
	TLSTimeout     = 5 * time.Second
	TotalTimeout   = 10 * time.Second
)

// Dialer opens a TCP connection to an IP address and port; *net.Dialer
// implements it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// ClientOptions are the parts of the client tests replace.
type ClientOptions struct {
	Guard webhooks.Guard
	// Resolver resolves host names; net.DefaultResolver when nil.
	Resolver webhooks.Resolver
	// Dialer connects to the checked IP; a net.Dialer that checks the
	// address again at connect time when nil.
	Dialer Dialer
	// TLS configures the TLS client (tests trust their own receiver's
	// certificate); Go's defaults when nil.
	TLS *tls.Config
}

// NewClient returns the delivery client: every connection goes through a
// dialer that resolves the host itself, refuses it if any address is
// forbidden, and connects only to the address it checked.
func NewClient(o ClientOptions) *http.Client {
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Dialer == nil {
		o.Dialer = &net.Dialer{Timeout: ConnectTimeout, Control: controlFor(o.Guard)}
	}
	d := guardedDialer{guard: o.Guard, resolver: o.Resolver, dialer: o.Dialer}
	return &http.Client{
		Timeout: TotalTimeout,
		Transport: &http.Transport{
			Proxy:                  nil, // HTTPS_PROXY would move the dial out of the guard's sight
			DialContext:            d.DialContext,
			TLSClientConfig:        o.TLS,
			TLSHandshakeTimeout:    TLSTimeout,
			ResponseHeaderTimeout:  TotalTimeout,
			MaxResponseHeaderBytes: 16 << 10,
			DisableKeepAlives:      true, // a kept connection would skip the next dial's check
			ForceAttemptHTTP2:      true,
		},
		// A 3xx is a failed attempt: following it would call a URL the
		// registration never checked, and the specification asks
		// receivers to update the URL instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type guardedDialer struct {
	guard    webhooks.Guard
	resolver webhooks.Resolver
	dialer   Dialer
}

// DialContext resolves addr's host, refuses it if any of its addresses is
// forbidden (before any connection), and dials the checked addresses in
// turn by IP, so nothing resolves the name again between check and connect.
func (d guardedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := d.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if err := d.guard.CheckAddr(ip); err != nil {
			return nil, fmt.Errorf("webhook host %s: %w", host, err)
		}
	}
	var errsSeen []error
	for _, ip := range ips {
		c, err := d.dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errsSeen = append(errsSeen, err)
	}
	return nil, errors.Join(errsSeen...)
}

func (d guardedDialer) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	a, isIP, err := webhooks.ParseHost(host)
	if err != nil {
		// Refused, not retried: no notation smuggles an address past us.
		return nil, fmt.Errorf("webhook host %s: %w", host, &webhooks.ForbiddenError{Addr: a, Class: fmt.Sprintf("written %q: %v", host, err)})
	}
	if isIP {
		return []netip.Addr{a}, nil
	}
	ips, err := d.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve webhook host %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve webhook host %s: no addresses", host)
	}
	for i, ip := range ips {
		// As webhooks.Guard.CheckResolved: a resolver's 16-byte IPv4 is
		// its IPv4, checked and dialled as such.
		ips[i] = ip.Unmap()
	}
	return ips, nil
}

// controlFor checks the socket's remote address just before connect: the
// last line of defence should anything hand the dialer a name.
func controlFor(g webhooks.Guard) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook dial %s: %w", address, err)
		}
		return g.CheckAddr(ap.Addr())
	}
}
