package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store"
	"github.com/batchplane/batchplane/shared/store/storetest"
	"github.com/batchplane/batchplane/shared/webhooks"
	"github.com/batchplane/batchplane/shared/webhooks/deliver"
)

// mapResolver answers from a map; nothing asks real DNS.
type mapResolver struct {
	mu sync.Mutex
	m  map[string][]string
}

func (r *mapResolver) set(host string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string][]string{}
	}
	r.m[host] = addrs
}

func (r *mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []netip.Addr
	for _, a := range r.m[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

// loopbackDialer records every dial and connects only to loopback: a dial
// anywhere else fails the test and connects nowhere.
type loopbackDialer struct {
	t     *testing.T
	mu    sync.Mutex
	dials []string
}

func (d *loopbackDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.dials = append(d.dials, address)
	d.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().IsLoopback() {
		d.t.Errorf("dial of %s: tests dial loopback IPs only", address)
		return nil, errors.New("test dialer: not loopback")
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, address)
}

func (d *loopbackDialer) calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dials...)
}

// recQueue collects what the service enqueues.
type recQueue struct{ jobs []webhooks.Job }

func (q *recQueue) Enqueue(_ context.Context, j webhooks.Job) error {
	q.jobs = append(q.jobs, j)
	return nil
}

// fakeClock starts now (the published library checks the signed timestamp
// against its own clock) and moves 10 ms per reading, so each attempt's
// duration is known.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(10 * time.Millisecond)
	return c.t
}

// env is a store on DynamoDB Local, an Administrator, and a worker whose
// resolver, dialer, clock and sleep are the test's.
type env struct {
	st       *store.Store
	admin    context.Context
	sealer   identity.Sealer
	resolver *mapResolver
	dialer   *loopbackDialer
	svc      *webhooks.Service
	queue    *recQueue
	worker   *deliver.Worker
	sleeps   []time.Duration
}

func newEnv(t *testing.T, g webhooks.Guard) *env {
	t.Helper()
	st := storetest.New(t)
	_, admin := storetest.Admin(t, st)
	sealer, err := secrets.NewAESGCM(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, admin: admin, sealer: sealer, resolver: &mapResolver{}, dialer: &loopbackDialer{t: t}, queue: &recQueue{}}
	e.svc = webhooks.NewService(st, sealer, e.queue, g, e.resolver)
	e.worker = e.newWorker(deliver.ClientOptions{Guard: g})
	return e
}

// newWorker builds a worker whose client uses o plus the env's resolver
// and dialer.
func (e *env) newWorker(o deliver.ClientOptions) *deliver.Worker {
	o.Resolver, o.Dialer = e.resolver, e.dialer
	w := deliver.NewWorker(e.st, e.sealer, deliver.NewClient(o))
	clock := &fakeClock{t: time.Now()}
	w.Now, w.Jitter = clock.Now, nil
	w.Sleep = func(_ context.Context, d time.Duration) error {
		e.sleeps = append(e.sleeps, d)
		return nil
	}
	return w
}

// create registers a webhook through the service (the registration checks).
func (e *env) create(t *testing.T, url string, events ...webhooks.EventType) webhooks.Created {
	t.Helper()
	evs := make([]string, len(events))
	for i, ev := range events {
		evs[i] = string(ev)
	}
	c, err := e.svc.Create(e.admin, webhooks.Input{URL: &url, Events: &evs})
	if err != nil {
		t.Fatalf("create webhook %s: %v", url, err)
	}
	return c
}

func (e *env) teams(t *testing.T) []string {
	t.Helper()
	p, err := identity.Caller(e.admin)
	if err != nil {
		t.Fatal(err)
	}
	return p.User.Teams
}

func (e *env) deliveries(t *testing.T, id string) []webhooks.Delivery {
	t.Helper()
	ds, _, err := e.st.ListDeliveries(context.Background(), id, identity.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// stored writes a webhook straight to the store, as if its URL had passed
// registration, with a secret sealed for its own id.
func (e *env) stored(t *testing.T, url string) string {
	t.Helper()
	id := fmt.Sprintf("H-%08d", len(e.dialer.calls())+int(time.Now().UnixNano()%1e8))
	sealed, err := e.sealer.Seal(context.Background(), []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), webhooks.SecretContext(id))
	if err != nil {
		t.Fatal(err)
	}
	w := webhooks.Webhook{ID: id, URL: url, Events: []webhooks.EventType{webhooks.RunFinished}, Teams: e.teams(t), CreatedAt: time.Now(), SealedSecret: sealed}
	if err := e.st.CreateWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return id
}
