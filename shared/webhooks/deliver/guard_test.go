package deliver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/webhooks"
	"github.com/batchplane/batchplane/shared/webhooks/deliver"
)

// TestSendRefusesForbiddenAddressesBeforeDialling: a webhook whose name
// now resolves (DNS rebinding after registration) or whose stored URL is
// written to an internal address is refused at send time without the
// dialer ever being called, recorded as a failed attempt, not retried.
func TestSendRefusesForbiddenAddressesBeforeDialling(t *testing.T) {
	tests := []struct {
		name  string
		url   string   // stored as if registration had passed
		addrs []string // what the name resolves to at send time
		want  string
	}{
		{"name to private", "https://hooks.example.net/h", []string{"10.0.0.5"}, "private"},
		{"name to metadata", "https://hooks.example.net/h", []string{"169.254.169.254"}, "metadata"},
		{"name to loopback", "https://hooks.example.net/h", []string{"127.0.0.1"}, "loopback"},
		{"name to mapped", "https://hooks.example.net/h", []string{"::ffff:10.0.0.1"}, "10.0.0.1 is private"},
		{"name to mapped metadata", "https://hooks.example.net/h", []string{"::ffff:169.254.169.254"}, "metadata"},
		{"name to CGNAT", "https://hooks.example.net/h", []string{"100.64.1.1"}, "CGNAT"},
		{"name to link-local v6", "https://hooks.example.net/h", []string{"fe80::1"}, "link-local"},
		{"name to unique-local", "https://hooks.example.net/h", []string{"fd00::1"}, "unique-local"},
		{"name to NAT64", "https://hooks.example.net/h", []string{"64:ff9b::a9fe:a9fe"}, "NAT64"},
		{"name to unspecified", "https://hooks.example.net/h", []string{"0.0.0.0"}, "unspecified"},
		{"one bad of two", "https://hooks.example.net/h", []string{"93.184.216.34", "192.168.0.1"}, "private"},
		{"literal private", "https://10.1.2.3/h", nil, "private"},
		{"literal decimal", "https://2130706433/h", nil, "non-standard notation"},
		{"literal octal", "https://0177.0.0.1/h", nil, "non-standard notation"},
		{"literal hex", "https://0x7f.1/h", nil, "non-standard notation"},
		{"literal short", "https://127.1/h", nil, "non-standard notation"},
		{"literal mapped", "https://[::ffff:169.254.169.254]/h", nil, "IPv4-mapped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, webhooks.Guard{})
			id := e.stored(t, tt.url)
			e.resolver.set("hooks.example.net", tt.addrs...)
			job := webhooks.Job{MessageID: "msg_1", WebhookID: id, Type: webhooks.RunFinished, Body: []byte(`{}`)}
			out, _, err := e.worker.Attempt(context.Background(), job, 1)
			if err != nil {
				t.Fatal(err)
			}
			ds := e.deliveries(t, id)
			if out != deliver.GiveUp || len(ds) != 1 || ds[0].Delivered || ds[0].StatusCode != 0 || !strings.Contains(ds[0].Error, tt.want) {
				t.Fatalf("outcome %v, deliveries %+v; want a refusal naming %q", out, ds, tt.want)
			}
			if d := e.dialer.calls(); len(d) != 0 {
				t.Fatalf("dialer called %v", d)
			}
		})
	}
}

// TestDNSRebindingIsRefusedAtSend: a name public when registered and
// private when sent is refused on the address the dialer would use, and
// the dialer is never called.
func TestDNSRebindingIsRefusedAtSend(t *testing.T) {
	e := newEnv(t, webhooks.Guard{})
	e.resolver.set("hooks.example.net", "93.184.216.34")
	c := e.create(t, "https://hooks.example.net/h", webhooks.RunFinished)
	e.resolver.set("hooks.example.net", "169.254.169.254")
	if _, err := e.svc.Publish(context.Background(), webhooks.Event{Type: webhooks.RunFinished, Time: time.Now(), Teams: e.teams(t)}); err != nil {
		t.Fatal(err)
	}
	if err := e.worker.Deliver(context.Background(), e.queue.jobs[0]); err != nil {
		t.Fatal(err)
	}
	ds := e.deliveries(t, c.ID)
	if len(ds) != 1 || !strings.Contains(ds[0].Error, "refused: address 169.254.169.254 is the cloud metadata service") || len(e.sleeps) != 0 {
		t.Fatalf("deliveries %+v, sleeps %v: want one refused attempt, no retry", ds, e.sleeps)
	}
	if d := e.dialer.calls(); len(d) != 0 {
		t.Fatalf("dialer called %v", d)
	}
}

// TestRegistrationRefusesInternalNames: a name resolving to an internal
// address is a 400 on url at registration, before anything is stored.
func TestRegistrationRefusesInternalNames(t *testing.T) {
	e := newEnv(t, webhooks.Guard{})
	e.resolver.set("internal.example.net", "93.184.216.34", "10.9.8.7")
	e.resolver.set("meta.example.net", "169.254.169.254")
	for _, host := range []string{"internal.example.net", "meta.example.net", "unresolvable.example.net"} {
		url := "https://" + host + "/h"
		_, err := e.svc.Create(e.admin, webhooks.Input{URL: &url, Events: &[]string{"run.started"}})
		if err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("%s: %v, want a 400", host, err)
		}
	}
	if ws, _, err := e.svc.List(e.admin, identity.Page{}); err != nil || len(ws) != 0 {
		t.Fatalf("stored %v (%v)", ws, err)
	}
	if d := e.dialer.calls(); len(d) != 0 {
		t.Fatalf("dialer called %v", d)
	}
}
