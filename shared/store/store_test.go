package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/runs"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

func sealer(t *testing.T) identity.Sealer {
	t.Helper()
	s, err := secrets.NewAESGCM(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func TestIdentityAndAccounts(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	ids := identity.NewService(st, sealer(t))
	nk, created, err := ids.Bootstrap(ctx, "admin@example.com")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v %v", created, err)
	}
	if _, again, err := ids.Bootstrap(ctx, "admin@example.com"); err != nil || again {
		t.Fatalf("second bootstrap: created=%v err=%v", again, err)
	}
	cred, err := ids.Lookup(ctx, nk.AccessKey)
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if err := cred.CheckSecret(nk.SecretKey); err != nil {
		t.Fatalf("secret: %v", err)
	}
	if err := cred.CheckSecret(nk.SecretKey + "x"); err == nil {
		t.Fatal("wrong secret accepted")
	}
	admin := identity.WithPrincipal(ctx, identity.Principal{User: cred.User})

	team, err := ids.CreateTeam(admin, identity.TeamInput{Name: ptr("Data")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.CreateTeam(admin, identity.TeamInput{Name: ptr("data")}); !errs.Is(err, errs.Conflict) {
		t.Fatalf("duplicate team: got %v, want conflict", err)
	}
	acc := accounts.NewService(st, st)
	a, err := acc.Create(admin, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"),
		RoleArn: ptr("arn:aws:iam::123456789012:role/batchplane"), Teams: &[]string{"Data"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.DeleteTeam(admin, team.ID); !errs.Is(err, errs.Conflict) {
		t.Fatalf("delete referenced team: got %v, want conflict", err)
	}
	u, err := ids.CreateUser(admin, identity.UserInput{UserName: ptr("bob@example.com"), FullName: ptr("Bob"), Role: ptr(identity.RoleUser)})
	if err != nil {
		t.Fatal(err)
	}
	bob := identity.WithPrincipal(ctx, identity.Principal{User: u})
	if _, err := acc.Get(bob, a.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("bob sees another team's account: %v", err)
	}
	if err := ids.AddTeamUsers(admin, "Data", []string{"bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	u, _ = st.GetUser(ctx, u.ID)
	bob = identity.WithPrincipal(ctx, identity.Principal{User: u})
	if _, err := acc.Get(bob, a.ID); err != nil {
		t.Fatalf("bob in team: %v", err)
	}
	list, _, err := acc.List(bob, identity.Page{})
	if err != nil || len(list) != 1 {
		t.Fatalf("bob's accounts: %v %v", list, err)
	}
	if err := acc.Delete(admin, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := ids.DeleteTeam(admin, "Data"); err != nil {
		t.Fatalf("delete unreferenced team: %v", err)
	}
	u, _ = st.GetUser(ctx, u.ID)
	if len(u.Teams) != 1 {
		t.Fatalf("bob's teams after delete: %v", u.Teams)
	}
	// keys: two active at most, revoke frees a slot.
	k2, err := ids.CreateKey(admin, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.CreateKey(admin, 0); !errs.Is(err, errs.Conflict) {
		t.Fatalf("third key: %v", err)
	}
	if err := ids.RevokeKey(admin, k2.AccessKey); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Lookup(ctx, k2.AccessKey); err != identity.ErrBadCredentials {
		t.Fatalf("revoked key: %v", err)
	}
	if _, err := ids.CreateKey(admin, 0); err != nil {
		t.Fatalf("key after revoke: %v", err)
	}
	_ = time.Now
}

func TestRunLease(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name   string
		holder string
		at     time.Time
		want   bool
	}{
		{"first holder", "a", now, true},
		{"other holder while valid", "b", now.Add(time.Second), false},
		{"same holder renews", "a", now.Add(2 * time.Second), true},
		{"other holder after expiry", "b", now.Add(time.Minute), true},
	}
	for _, tt := range tests {
		got, err := st.LeaseRun(ctx, "R-1", tt.holder, tt.at, tt.at.Add(30*time.Second))
		if err != nil || got != tt.want {
			t.Fatalf("%s: %v %v, want %v", tt.name, got, err, tt.want)
		}
	}
	if err := st.ReleaseRun(ctx, "R-1", "a"); err != nil { // not the holder: no-op
		t.Fatal(err)
	}
	if ok, _ := st.LeaseRun(ctx, "R-1", "c", now.Add(time.Minute), now.Add(2*time.Minute)); ok {
		t.Fatal("lease taken while b holds it")
	}
	if err := st.ReleaseRun(ctx, "R-1", "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.LeaseRun(ctx, "R-1", "c", now.Add(time.Minute), now.Add(2*time.Minute)); !ok {
		t.Fatal("lease not free after release")
	}
	if d, _ := st.TakeDirty(ctx, "R-1"); d {
		t.Fatal("dirty before marking")
	}
	_ = st.MarkDirty(ctx, "R-1")
	_ = st.MarkDirty(ctx, "R-1")
	if d, _ := st.TakeDirty(ctx, "R-1"); !d {
		t.Fatal("dirty mark lost")
	}
	if d, _ := st.TakeDirty(ctx, "R-1"); d {
		t.Fatal("dirty mark taken twice")
	}
}

// TestApplyInstanceEventOrder applies EC2 observations in every awkward
// order: same-second pending/running in reverse, a stale pending after a
// launch that saw running, duplicates, a late event after termination, and
// a spot interruption warning twice.
func TestApplyInstanceEventOrder(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	launched := runs.Instance{InstanceID: "i-1", InstanceType: "t3.micro", State: "running", Spot: true, Healthy: true,
		LaunchTime: t0, EventTime: t0.Add(400 * time.Millisecond)}
	if err := st.PutInstance(ctx, "R-1", launched); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name        string
		state       string
		interrupted bool
		at          time.Time
		applied     bool
		want        string
	}{
		{"stale pending of the launch second", "pending", false, t0, false, "running"},
		{"running of the launch second again", "running", false, t0.Add(100 * time.Millisecond), false, "running"},
		{"interruption warning", "", true, t0.Add(5 * time.Second), true, "running"},
		{"interruption warning duplicated", "", true, t0.Add(5 * time.Second), false, "running"},
		{"terminated", "terminated", false, t0.Add(7 * time.Second), true, "terminated"},
		{"shutting-down of the same second, late", "shutting-down", false, t0.Add(7 * time.Second), false, "terminated"},
		{"running from before, late", "running", false, t0.Add(3 * time.Second), false, "terminated"},
		{"terminated duplicated", "terminated", false, t0.Add(7 * time.Second), false, "terminated"},
	}
	for _, s := range steps {
		applied, err := st.ApplyInstanceEvent(ctx, "R-1", "i-1", s.state, s.interrupted, s.at)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if applied != s.applied {
			t.Errorf("%s: applied %v, want %v", s.name, applied, s.applied)
		}
		list, err := st.ListInstances(ctx, "R-1")
		if err != nil || len(list) != 1 {
			t.Fatalf("%s: %v %v", s.name, list, err)
		}
		if list[0].State != s.want {
			t.Errorf("%s: state %s, want %s", s.name, list[0].State, s.want)
		}
		if s.interrupted && !list[0].Interrupted {
			t.Errorf("%s: not marked interrupted", s.name)
		}
	}
	// Same-second events reversed on a fresh record without a launch view.
	if err := st.PutInstance(ctx, "R-1", runs.Instance{InstanceID: "i-2", State: "pending", LaunchTime: t0}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		state   string
		applied bool
	}{{"running", true}, {"pending", false}} {
		if ok, err := st.ApplyInstanceEvent(ctx, "R-1", "i-2", s.state, false, t0); err != nil || ok != s.applied {
			t.Errorf("i-2 %s: applied %v %v, want %v", s.state, ok, err, s.applied)
		}
	}
	if ok, err := st.ApplyInstanceEvent(ctx, "R-1", "i-missing", "running", false, t0); err != nil || ok {
		t.Errorf("unknown instance: applied %v %v", ok, err)
	}
}

// TestAccountTeams: the teams of a listing page's accounts in one
// consistent BatchGetItem per 100 ids, duplicates and missing accounts
// allowed (what accounts.Keep scopes a listing by).
func TestAccountTeams(t *testing.T) {
	st := storetest.New(t)
	ids, admin := storetest.Admin(t, st)
	team, err := ids.CreateTeam(admin, identity.TeamInput{Name: ptr("Data")})
	if err != nil {
		t.Fatal(err)
	}
	svc := accounts.NewService(st, st)
	var all []string
	for i := range 101 {
		in := accounts.Input{Name: ptr("a"), BaseRegion: ptr("us-east-1"), RoleArn: ptr("arn:aws:iam::123456789012:role/r")}
		if i == 0 {
			in.Teams = &[]string{"Data"}
		}
		a, err := svc.Create(admin, in)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, a.ID)
	}
	tests := []struct {
		name string
		ids  []string
		want int
	}{
		{"duplicates and a missing account", []string{all[0], all[1], all[0], "A-00000000"}, 2},
		{"more than one batch", all, 101},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.AccountTeams(context.Background(), tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("%d accounts, want %d", len(got), tt.want)
			}
			if ts, ok := got[all[0]]; tt.want > 0 && (!ok || len(ts) != 1 || ts[0] != team.ID) {
				t.Fatalf("teams of %s: %v, want [%s]", all[0], ts, team.ID)
			}
		})
	}
}
