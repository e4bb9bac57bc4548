package identity_test

import (
	"context"
	"testing"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

func ptr[T any](v T) *T { return &v }

// TestServiceRules runs the identity service over DynamoDB Local: who may
// do what with teams, users and keys.
func TestServiceRules(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	s, admin := storetest.Admin(t, st)
	me, err := identity.Caller(admin)
	if err != nil {
		t.Fatal(err)
	}
	adminKeys, err := s.Keys(admin, me.User.ID)
	if err != nil || len(adminKeys) != 1 {
		t.Fatalf("admin keys %v: %v", adminKeys, err)
	}
	bobUser, err := s.CreateUser(admin, identity.UserInput{UserName: ptr("bob@example.com"), FullName: ptr("Bob"), Role: ptr(identity.RoleUser)})
	if err != nil {
		t.Fatal(err)
	}
	bob := identity.WithPrincipal(ctx, identity.Principal{User: bobUser})
	if _, err := s.CreateTeam(admin, identity.TeamInput{Name: ptr("Data")}); err != nil {
		t.Fatal(err)
	}
	bobKey, err := s.CreateKey(bob, 0)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		do   func() error
		want errs.Code
	}{
		{"a user cannot create teams", func() error { _, err := s.CreateTeam(bob, identity.TeamInput{Name: ptr("Ops")}); return err }, errs.Forbidden},
		{"nobody cannot list teams", func() error { _, _, err := s.Teams(ctx, identity.Page{}); return err }, errs.Unauthenticated},
		{"a duplicate team name (any case)", func() error { _, err := s.CreateTeam(admin, identity.TeamInput{Name: ptr("DATA")}); return err }, errs.Conflict},
		{"the default team cannot be renamed", func() error {
			_, err := s.UpdateTeam(admin, identity.DefaultTeamName, identity.TeamInput{Name: ptr("Org")})
			return err
		}, errs.Invalid},
		{"the default team cannot be deleted", func() error { return s.DeleteTeam(admin, identity.DefaultTeamName) }, errs.Conflict},
		{"a user does not see another team", func() error { _, err := s.Team(bob, "Data"); return err }, errs.NotFound},
		{"adding an unknown user to a team", func() error { return s.AddTeamUsers(admin, "Data", []string{"nobody@example.com"}) }, errs.Invalid},
		{"adding no users", func() error { return s.AddTeamUsers(admin, "Data", nil) }, errs.Invalid},
		{"a user cannot change users", func() error {
			_, err := s.UpdateUser(bob, bobUser.ID, identity.UserInput{Role: ptr(identity.RoleAdministrator)})
			return err
		}, errs.Forbidden},
		{"an administrator cannot demote themselves", func() error {
			_, err := s.UpdateUser(admin, me.User.ID, identity.UserInput{Role: ptr(identity.RoleUser)})
			return err
		}, errs.Invalid},
		{"a user cannot create keys for others", func() error { _, err := s.CreateKey(bob, me.User.ID); return err }, errs.Forbidden},
		{"an administrator cannot create keys for nobody", func() error { _, err := s.CreateKey(admin, 999); return err }, errs.Invalid},
		{"a user does not see others' keys", func() error { _, err := s.Keys(bob, me.User.ID); return err }, errs.NotFound},
		{"a user cannot revoke others' keys", func() error { return s.RevokeKey(bob, adminKeys[0].AccessKey) }, errs.NotFound},
		{"an administrator sees a user's keys", func() error { _, err := s.Keys(admin, bobUser.ID); return err }, ""},
		{"an administrator revokes a user's key", func() error { return s.RevokeKey(admin, bobKey.AccessKey) }, ""},
		{"revoking twice is fine", func() error { return s.RevokeKey(bob, bobKey.AccessKey) }, ""},
		{"a revoked key does not authenticate", func() error { _, err := s.Lookup(ctx, bobKey.AccessKey); return err }, errs.Unauthenticated},
		{"an unknown key does not authenticate", func() error { _, err := s.Lookup(ctx, "BPAKNOPE"); return err }, errs.Unauthenticated},
		{"a user sees themselves", func() error { _, err := s.User(bob, bobUser.ID); return err }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errs.CodeOf(tt.do()); got != tt.want {
				t.Errorf("code = %q, want %q", got, tt.want)
			}
		})
	}
}
