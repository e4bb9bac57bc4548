package webhooks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store/storetest"
	"github.com/batchplane/batchplane/shared/webhooks"
)

func ptr[T any](v T) *T { return &v }

type recQueue struct{ jobs []webhooks.Job }

func (q *recQueue) Enqueue(_ context.Context, j webhooks.Job) error {
	q.jobs = append(q.jobs, j)
	return nil
}

// fixture is a service over DynamoDB Local with an Administrator, a
// webhook of theirs (c) and Bob of another team with one of his (bobs).
type fixture struct {
	svc         *webhooks.Service
	q           *recQueue
	admin, bob  context.Context
	c, bobs     webhooks.Created
	otherTeamID string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.New(t)
	ids, admin := storetest.Admin(t, st)
	sealer, _ := secrets.NewAESGCM(make([]byte, 32))
	q := &recQueue{}
	svc := webhooks.NewService(st, sealer, q, webhooks.Guard{}, nil)
	c, err := svc.Create(admin, webhooks.Input{URL: ptr("https://93.184.216.34/hook"), Events: &[]string{"run.failed", "batch.finished"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Secret, "whsec_") || !strings.HasPrefix(c.ID, "H-") || strings.Contains(string(c.SealedSecret), c.Secret) {
		t.Fatalf("created %+v", c)
	}
	opened, err := sealer.Open(ctx, c.SealedSecret, webhooks.SecretContext(c.ID))
	if err != nil || string(opened) != c.Secret {
		t.Fatalf("sealed secret opens to %q (%v)", opened, err)
	}

	team, err := ids.CreateTeam(admin, identity.TeamInput{Name: ptr("Other")})
	if err != nil {
		t.Fatal(err)
	}
	u, err := ids.CreateUser(admin, identity.UserInput{UserName: ptr("bob@example.com"), FullName: ptr("Bob"), Role: ptr(identity.RoleUser)})
	if err != nil {
		t.Fatal(err)
	}
	u.Teams = []string{team.ID}
	bob := identity.WithPrincipal(ctx, identity.Principal{User: u})
	bobs, err := svc.Create(bob, webhooks.Input{URL: ptr("https://93.184.216.34/bob"), Events: &[]string{"run.failed"}})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, q: q, admin: admin, bob: bob, c: c, bobs: bobs, otherTeamID: team.ID}
}

// TestCreateValidates: 400s naming the field, 401 without a caller.
func TestCreateValidates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	svc, admin := f.svc, f.admin
	bad := []struct {
		name  string
		in    webhooks.Input
		field string
		says  string
	}{
		{"no url", webhooks.Input{Events: &[]string{"run.started"}}, "url", "required"},
		{"http", webhooks.Input{URL: ptr("http://93.184.216.34/"), Events: &[]string{"run.started"}}, "url", "https"},
		{"metadata", webhooks.Input{URL: ptr("https://169.254.169.254/"), Events: &[]string{"run.started"}}, "url", "metadata"},
		{"no events", webhooks.Input{URL: ptr("https://93.184.216.34/")}, "events", "at least one"},
		{"empty events", webhooks.Input{URL: ptr("https://93.184.216.34/"), Events: &[]string{}}, "events", "at least one"},
		{"unknown event", webhooks.Input{URL: ptr("https://93.184.216.34/"), Events: &[]string{"run.exploded"}}, "events", "not an event type"},
		{"repeated event", webhooks.Input{URL: ptr("https://93.184.216.34/"), Events: &[]string{"run.failed", "run.failed"}}, "events", "twice"},
		{"too many events", webhooks.Input{URL: ptr("https://93.184.216.34/"), Events: &[]string{"a", "b", "c", "d", "e", "f"}}, "events", "at most"},
	}
	for _, tt := range bad {
		_, err := svc.Create(admin, tt.in)
		if e := errs.As(err); e == nil || e.Code != errs.Invalid || !strings.Contains(e.Fields[tt.field], tt.says) {
			t.Errorf("%s: got %v, want a 400 on %s saying %q", tt.name, err, tt.field, tt.says)
		}
	}
	if _, err := svc.Create(ctx, webhooks.Input{}); !errs.Is(err, errs.Unauthenticated) {
		t.Fatalf("no caller: %v", err)
	}

}

// TestTeamScope: another team's webhook is 404 for get, deliveries and
// delete, and absent from the list; deleting one's own works.
func TestTeamScope(t *testing.T) {
	f := newFixture(t)
	svc, admin, bob, c := f.svc, f.admin, f.bob, f.c
	if _, err := svc.Get(bob, c.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("bob gets another team's webhook: %v", err)
	}
	if _, _, err := svc.Deliveries(bob, c.ID, identity.Page{}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("bob lists another team's deliveries: %v", err)
	}
	if err := svc.Delete(bob, c.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("bob deletes another team's webhook: %v", err)
	}
	if ws, _, err := svc.List(bob, identity.Page{}); err != nil || len(ws) != 1 || ws[0].ID != f.bobs.ID {
		t.Fatalf("bob lists %v (%v), want only his own", ws, err)
	}
	if _, err := svc.Get(bob, f.bobs.ID); err != nil {
		t.Fatalf("bob gets his own: %v", err)
	}
	if ws, _, err := svc.List(admin, identity.Page{}); err != nil || len(ws) != 2 {
		t.Fatalf("admin lists %d (%v), want 2", len(ws), err)
	}

	if err := svc.Delete(admin, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(admin, c.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted webhook: %v", err)
	}
}

// TestPublishFansOut: to the subscribed webhooks of the event's teams
// only, with the body fixed at publish.
func TestPublishFansOut(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	svc, admin, q, c, bobs, other := f.svc, f.admin, f.q, f.c, f.bobs, f.otherTeamID
	me, _ := identity.Caller(admin)
	for _, tt := range []struct {
		typ   webhooks.EventType
		teams []string
		want  []string
	}{
		{webhooks.RunFailed, me.User.Teams, []string{c.ID}},
		{webhooks.RunFailed, []string{other}, []string{bobs.ID}},
		{webhooks.RunFailed, append([]string{other}, me.User.Teams...), []string{c.ID, bobs.ID}},
		{webhooks.RunStarted, me.User.Teams, nil},
		{webhooks.BatchFinished, nil, nil},
	} {
		q.jobs = nil
		n, err := svc.Publish(ctx, webhooks.Event{Type: tt.typ, Time: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Teams: tt.teams, Data: map[string]int{"n": 1}})
		if err != nil || n != len(tt.want) || len(q.jobs) != n {
			t.Fatalf("%s to %v: %d (%v), want %v", tt.typ, tt.teams, n, err, tt.want)
		}
		for i, j := range q.jobs {
			if j.WebhookID != tt.want[i] && (len(tt.want) < 2 || j.WebhookID != tt.want[1-i]) {
				t.Errorf("%s: job for %s, want %v", tt.typ, j.WebhookID, tt.want)
			}
			if want := `{"type":"run.failed","timestamp":"2026-12-01T08:00:00Z","data":{"n":1}}`; string(j.Body) != want || !strings.HasPrefix(j.MessageID, "msg_") {
				t.Errorf("job %s body %s, want %s", j.MessageID, j.Body, want)
			}
		}
	}
	if _, err := svc.Publish(ctx, webhooks.Event{Type: "run.exploded", Teams: me.User.Teams}); err == nil {
		t.Fatal("an unknown event type published")
	}
	if _, err := svc.Publish(ctx, webhooks.Event{Type: webhooks.RunFailed, Teams: me.User.Teams, Data: strings.Repeat("x", webhooks.MaxBody)}); err == nil {
		t.Fatal("an oversized body published")
	}

}
