package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/store/storetest"
	"github.com/batchplane/batchplane/shared/webhooks"
)

// TestWebhooksStore: create, get, team-scoped list, deliveries newest
// first with paging, delete; and the table holds the secret only sealed.
func TestWebhooksStore(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	_, admin := storetest.Admin(t, st)
	me, _ := identity.Caller(admin)
	svc := webhooks.NewService(st, sealer(t), nil, webhooks.Guard{}, nil)
	in := webhooks.Input{URL: ptr("https://93.184.216.34/hook"), Events: &[]string{"run.finished", "run.failed"}}
	c, err := svc.Create(admin, in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Secret, webhooks.SecretPrefix) {
		t.Fatalf("secret %q", c.Secret)
	}
	got, err := st.GetWebhook(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != c.URL || len(got.Events) != 2 || got.Events[1] != webhooks.RunFailed || got.OwnerID != me.User.ID ||
		!got.CreatedAt.Equal(c.CreatedAt) || len(got.Teams) != 1 || len(got.SealedSecret) == 0 {
		t.Fatalf("got %+v, want %+v", got, c.Webhook)
	}
	if err := st.CreateWebhook(ctx, got); !errs.Is(err, errs.Conflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, err := st.GetWebhook(ctx, "H-MISSING"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("missing: %v", err)
	}
	other := got
	other.ID, other.Teams = "H-OTHER", []string{"Z-OTHER"}
	if err := st.CreateWebhook(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		teams []string
		want  int
	}{{"all", nil, 2}, {"mine", got.Teams, 1}, {"other", []string{"Z-OTHER"}, 1}, {"none", []string{}, 0}} {
		ws, _, err := st.ListWebhooks(ctx, tt.teams, identity.Page{})
		if err != nil || len(ws) != tt.want {
			t.Errorf("%s: %d webhooks, %v; want %d", tt.name, len(ws), err, tt.want)
		}
	}

	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		d := webhooks.Delivery{WebhookID: got.ID, MessageID: "msg_a", Type: webhooks.RunFailed, Attempt: i,
			At: t0.Add(time.Duration(i) * time.Minute), StatusCode: 500, Error: "receiver answered 500", Duration: 42 * time.Millisecond}
		if err := st.AppendDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	ds, next, err := st.ListDeliveries(ctx, got.ID, identity.Page{Limit: 2})
	if err != nil || len(ds) != 2 || next == "" {
		t.Fatalf("page 1: %v %q %v", ds, next, err)
	}
	if ds[0].Attempt != 3 || ds[1].Attempt != 2 || ds[0].Type != webhooks.RunFailed || ds[0].StatusCode != 500 ||
		ds[0].Duration != 42*time.Millisecond || !ds[0].At.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("newest first: %+v", ds)
	}
	ds, _, err = st.ListDeliveries(ctx, got.ID, identity.Page{Limit: 2, Token: next})
	if err != nil || len(ds) != 1 || ds[0].Attempt != 1 {
		t.Fatalf("page 2: %+v %v", ds, err)
	}

	assertNoClearSecret(t, st.DB, st.Table, c.Secret)
	if err := st.DeleteWebhook(ctx, got.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteWebhook(ctx, got.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// assertNoClearSecret scans the whole table: no attribute holds whsec_ or
// the secret's key text, as a string or as bytes.
func assertNoClearSecret(t *testing.T, db *dynamodb.Client, table, secret string) {
	t.Helper()
	key := strings.TrimPrefix(secret, webhooks.SecretPrefix)
	res, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(types.AttributeValue) bool
	walk = func(v types.AttributeValue) bool {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			return strings.Contains(v.Value, webhooks.SecretPrefix) || strings.Contains(v.Value, key)
		case *types.AttributeValueMemberB:
			return strings.Contains(string(v.Value), webhooks.SecretPrefix) || strings.Contains(string(v.Value), key)
		case *types.AttributeValueMemberL:
			for _, e := range v.Value {
				if walk(e) {
					return true
				}
			}
		case *types.AttributeValueMemberM:
			for _, e := range v.Value {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	webhookItems := 0
	for _, it := range res.Items {
		if s, ok := it["Type"].(*types.AttributeValueMemberS); ok && s.Value == "Webhook" {
			webhookItems++
		}
		for name, v := range it {
			if walk(v) {
				t.Errorf("attribute %s of %v holds the secret in clear", name, it["PK"])
			}
		}
	}
	if webhookItems == 0 {
		t.Fatal("scan found no webhook: the check checked nothing")
	}
}
