package deliver_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/batchplane/batchplane/shared/store"
	"github.com/batchplane/batchplane/shared/webhooks"
	"github.com/batchplane/batchplane/shared/webhooks/deliver"
)

// received is what a test receiver saw.
type received struct {
	Type     webhooks.EventType
	ID       string
	Verified error
}

// receiver is a local Standard Webhooks consumer: it verifies each request
// with the specification's published Go library and answers status.
func receiver(t *testing.T, secret *string, status func(n int) int) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b webhooks.Body
		_ = json.Unmarshal(body, &b)
		wh, err := standardwebhooks.NewWebhook(*secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			err = io.ErrUnexpectedEOF
		}
		mu.Lock()
		got = append(got, received{Type: b.Type, ID: r.Header.Get(webhooks.HeaderID), Verified: err})
		n := len(got)
		mu.Unlock()
		w.WriteHeader(status(n))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func always(code int) func(int) int { return func(int) int { return code } }

// TestLocalReceiverGetsOneSignedDeliveryPerEvent: under the loopback
// option, a receiver on 127.0.0.1 subscribed to every event gets exactly
// one delivery per published event through the in-process queue, each
// verified by the published library; a webhook of another team and one
// subscribed to one type get only theirs.
func TestLocalReceiverGetsOneSignedDeliveryPerEvent(t *testing.T) {
	e := newEnv(t, webhooks.Guard{AllowLoopback: true})
	var secret, onlySecret string
	srv, got := receiver(t, &secret, always(http.StatusNoContent))
	only, gotOnly := receiver(t, &onlySecret, always(http.StatusOK))
	all := e.create(t, srv.URL+"/hook", webhooks.EventTypes...)
	secret = all.Secret
	one := e.create(t, only.URL+"/hook", webhooks.RunFailed)
	onlySecret = one.Secret

	q := deliver.NewLocalQueue(e.worker, 16)
	e.svc.Queue = q
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx, 1); close(done) }() // one goroutine: the fake clock is read in order
	defer func() { cancel(); <-done }()

	total := 0
	for _, typ := range webhooks.EventTypes {
		n, err := e.svc.Publish(context.Background(), webhooks.Event{Type: typ, Time: time.Now(), Teams: e.teams(t),
			Data: map[string]string{"id": "R-0000002A"}})
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if n, err := e.svc.Publish(context.Background(), webhooks.Event{Type: webhooks.RunFailed, Time: time.Now(), Teams: []string{"Z-OTHERTEAM"}}); err != nil || n != 0 {
		t.Fatalf("another team's event reached %d webhooks (%v)", n, err)
	}
	if want := len(webhooks.EventTypes) + 1; total != want {
		t.Fatalf("published to %d webhooks, want %d", total, want)
	}
	waitFor(t, func() bool { return len(got()) == len(webhooks.EventTypes) && len(gotOnly()) == 1 })

	var types []webhooks.EventType
	ids := map[string]bool{}
	for _, r := range got() {
		if r.Verified != nil {
			t.Errorf("%s: not verified: %v", r.Type, r.Verified)
		}
		types, ids[r.ID] = append(types, r.Type), true
	}
	slices.Sort(types)
	want := slices.Clone(webhooks.EventTypes)
	slices.Sort(want)
	if !slices.Equal(types, want) || len(ids) != len(want) {
		t.Fatalf("got types %v (ids %d), want one of each %v", types, len(ids), want)
	}
	if r := gotOnly(); r[0].Type != webhooks.RunFailed || r[0].Verified != nil {
		t.Fatalf("run.failed-only webhook got %+v", r)
	}
	waitFor(t, func() bool { return len(e.deliveries(t, all.ID)) == len(want) })
	for _, d := range e.deliveries(t, all.ID) {
		if !d.Delivered || d.StatusCode != http.StatusNoContent || d.Attempt != 1 || d.Error != "" || d.Duration != 10*time.Millisecond {
			t.Errorf("delivery %+v", d)
		}
	}
}

// TestRetriesWithExponentialBackoff: a receiver answering 500 gets every
// attempt, spaced 1, 2, 4, 8 s (capped), each recorded with its status,
// error and duration; one that recovers stops the retries; Retry-After
// stretches a delay; 410 Gone stops at once.
func TestRetriesWithExponentialBackoff(t *testing.T) {
	tests := []struct {
		name       string
		status     func(n int) int
		header     string
		attempts   int
		sleeps     []time.Duration
		delivered  bool
		lastStatus int
	}{
		{"always 500", always(500), "", 5, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, false, 500},
		{"recovers on the third", func(n int) int { return map[bool]int{true: 200, false: 502}[n >= 3] }, "", 3,
			[]time.Duration{time.Second, 2 * time.Second}, true, 200},
		{"retry-after", func(n int) int { return map[bool]int{true: 200, false: 503}[n >= 2] }, "6", 2, []time.Duration{6 * time.Second}, true, 200},
		{"gone", always(http.StatusGone), "", 1, nil, false, 410},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, webhooks.Guard{AllowLoopback: true})
			var secret string
			srv, got := receiver(t, &secret, func(n int) int { return tt.status(n) })
			if tt.header != "" {
				srv.Config.Handler = retryAfter(srv.Config.Handler, tt.header)
			}
			c := e.create(t, srv.URL, webhooks.RunFailed)
			secret = c.Secret
			e.worker.Backoff = deliver.Backoff{Base: time.Second, Max: 8 * time.Second, Attempts: 5}
			if _, err := e.svc.Publish(context.Background(), webhooks.Event{Type: webhooks.RunFailed, Time: time.Now(), Teams: e.teams(t)}); err != nil {
				t.Fatal(err)
			}
			err := e.worker.Deliver(context.Background(), e.queue.jobs[0])
			if (err == nil) != (tt.delivered || tt.lastStatus == 410) {
				t.Fatalf("deliver: %v", err)
			}
			if r := got(); len(r) != tt.attempts || r[0].ID != r[len(r)-1].ID || r[0].Verified != nil {
				t.Fatalf("receiver saw %+v, want %d attempts of one verified message", r, tt.attempts)
			}
			if !slices.Equal(e.sleeps, tt.sleeps) {
				t.Fatalf("slept %v, want %v", e.sleeps, tt.sleeps)
			}
			ds := e.deliveries(t, c.ID)
			if len(ds) != tt.attempts {
				t.Fatalf("%d deliveries recorded, want %d", len(ds), tt.attempts)
			}
			for i, d := range ds { // newest first
				if d.Attempt != tt.attempts-i || d.Duration != 10*time.Millisecond || d.StatusCode == 0 {
					t.Errorf("delivery %d: %+v", i, d)
				}
				if i > 0 && (d.Delivered || !strings.Contains(d.Error, "receiver answered")) {
					t.Errorf("failed attempt %d recorded as %+v", d.Attempt, d)
				}
			}
			if ds[0].Delivered != tt.delivered || ds[0].StatusCode != tt.lastStatus {
				t.Errorf("last attempt %+v, want delivered=%v status %d", ds[0], tt.delivered, tt.lastStatus)
			}
		})
	}
}

func retryAfter(h http.Handler, v string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", v)
		h.ServeHTTP(w, r)
	})
}

// TestRedirectIsNotFollowed: a 302 to another URL is a failed attempt and
// the other URL is never called.
func TestRedirectIsNotFollowed(t *testing.T) {
	e := newEnv(t, webhooks.Guard{AllowLoopback: true})
	var targetHits int
	var mu sync.Mutex
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		targetHits++
		mu.Unlock()
	}))
	defer target.Close()
	redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/elsewhere", http.StatusFound))
	defer redirector.Close()
	c := e.create(t, redirector.URL, webhooks.RunStarted)
	e.worker.Backoff.Attempts = 1
	if _, err := e.svc.Publish(context.Background(), webhooks.Event{Type: webhooks.RunStarted, Time: time.Now(), Teams: e.teams(t)}); err != nil {
		t.Fatal(err)
	}
	if err := e.worker.Deliver(context.Background(), e.queue.jobs[0]); err == nil {
		t.Fatal("a redirected delivery counted as delivered")
	}
	mu.Lock()
	defer mu.Unlock()
	if targetHits != 0 {
		t.Fatalf("redirect followed: target called %d times", targetHits)
	}
	ds := e.deliveries(t, c.ID)
	if len(ds) != 1 || ds[0].StatusCode != http.StatusFound || ds[0].Delivered || !strings.Contains(ds[0].Error, "redirect not followed") {
		t.Fatalf("deliveries %+v", ds)
	}
}

// TestHostNameDialsTheCheckedAddress: a name resolved by the guard is
// dialled by the IP it checked (no second lookup), while TLS still
// verifies the certificate against the name.
func TestHostNameDialsTheCheckedAddress(t *testing.T) {
	e := newEnv(t, webhooks.Guard{AllowLoopback: true})
	var secret string
	srv := httptest.NewUnstartedServer(nil)
	var mu sync.Mutex
	var verified []error
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wh, _ := standardwebhooks.NewWebhook(secret)
		mu.Lock()
		verified = append(verified, wh.Verify(body, r.Header))
		mu.Unlock()
	})
	srv.StartTLS()
	defer srv.Close()
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port := ":" + p
	// httptest's certificate names example.com; the 16-byte form is how
	// Go's resolver returns /etc/hosts IPv4: checked and dialled as IPv4.
	e.resolver.set("example.com", "::ffff:127.0.0.1")
	c := e.create(t, "https://example.com"+port+"/hook", webhooks.BatchFinished)
	secret = c.Secret
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	w := e.newWorker(deliver.ClientOptions{Guard: webhooks.Guard{AllowLoopback: true}, TLS: &tls.Config{RootCAs: pool}})
	if _, err := e.svc.Publish(context.Background(), webhooks.Event{Type: webhooks.BatchFinished, Time: time.Now(), Teams: e.teams(t)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Deliver(context.Background(), e.queue.jobs[0]); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(verified) != 1 || verified[0] != nil {
		t.Fatalf("receiver verification %v", verified)
	}
	if d := e.dialer.calls(); len(d) != 1 || d[0] != "127.0.0.1"+port {
		t.Fatalf("dials %v, want the checked IP 127.0.0.1%s", d, port)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a failsafe, not a speed assertion
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOwnFailureKeepsTheMessage: when our store fails (here: a table that
// does not exist), the attempt is retried on the backoff, not dropped.
func TestOwnFailureKeepsTheMessage(t *testing.T) {
	e := newEnv(t, webhooks.Guard{AllowLoopback: true})
	e.worker.Store = store.New(e.st.DB, "no-such-table", e.st.Tokens)
	e.worker.Backoff = deliver.Backoff{Base: time.Second, Max: time.Minute, Attempts: 3}
	err := e.worker.Deliver(context.Background(), webhooks.Job{MessageID: "msg_1", WebhookID: "H-1", Type: webhooks.RunFailed, Body: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "not delivered after 3 attempts") {
		t.Fatalf("deliver: %v", err)
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(e.sleeps, want) {
		t.Fatalf("slept %v, want %v", e.sleeps, want)
	}
}

// TestTimeoutIsAFailedAttempt: a receiver that never answers within the
// client's timeout (shortened here from 10 s) is a failed, retried attempt.
func TestTimeoutIsAFailedAttempt(t *testing.T) {
	e := newEnv(t, webhooks.Guard{AllowLoopback: true})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	c := e.create(t, srv.URL, webhooks.ScheduleFired)
	e.worker.Client.Timeout = 50 * time.Millisecond
	job := webhooks.Job{MessageID: "msg_t", WebhookID: c.ID, Type: webhooks.ScheduleFired, Body: []byte(`{}`)}
	out, after, err := e.worker.Attempt(context.Background(), job, 1)
	if err != nil || out != deliver.Retry || after != deliver.DefaultBackoff.Base {
		t.Fatalf("outcome %v after %v (%v), want a retry after %v", out, after, err, deliver.DefaultBackoff.Base)
	}
	ds := e.deliveries(t, c.ID)
	if len(ds) != 1 || ds[0].StatusCode != 0 || !strings.Contains(ds[0].Error, "Timeout") {
		t.Fatalf("deliveries %+v, want one timed-out attempt", ds)
	}
}
