package jobs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

func ptr[T any](v T) *T { return &v }

// groups is a cloud.AutoScaling whose GetGroup is a function field; the
// job service calls nothing else of it here.
type groups struct {
	cloud.AutoScaling
	get func(t cloud.Target, name string) (cloud.Group, error)
}

func (g groups) GetGroup(_ context.Context, t cloud.Target, name string) (cloud.Group, error) {
	return g.get(t, name)
}

func TestServiceRules(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	ids, admin := storetest.Admin(t, st)
	if _, err := ids.CreateTeam(admin, identity.TeamInput{Name: ptr("Data")}); err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.NewService(st, st).Create(admin, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"),
		RoleArn: ptr("arn:aws:iam::123456789012:role/batchplane"), Teams: &[]string{"Data"}})
	if err != nil {
		t.Fatal(err)
	}
	bobUser, err := ids.CreateUser(admin, identity.UserInput{UserName: ptr("bob@example.com"), FullName: ptr("Bob"), Role: ptr(identity.RoleUser)})
	if err != nil {
		t.Fatal(err)
	}
	bob := identity.WithPrincipal(ctx, identity.Principal{User: bobUser})

	var asked cloud.Target
	s := jobs.NewService(st, st, st, groups{get: func(t cloud.Target, name string) (cloud.Group, error) {
		asked = t
		switch name {
		case "web":
			return cloud.Group{Name: name}, nil
		case "locked":
			return cloud.Group{}, fmt.Errorf("assume role: %w", cloud.ErrAccessDenied)
		}
		return cloud.Group{}, fmt.Errorf("group %s: %w", name, cloud.ErrNotFound)
	}})
	asg := func(group string) jobs.Input {
		return jobs.Input{AccountID: &acc.ID, Name: ptr("nightly"), AutoScalingGroupName: ptr(group)}
	}
	j, err := s.Create(admin, jobs.AppASG, asg("web"))
	if err != nil {
		t.Fatal(err)
	}
	if want := acc.Target("us-east-1"); asked != want {
		t.Fatalf("group looked up in %+v, want %+v", asked, want)
	}
	if j.BaseRegion != acc.BaseRegion || j.AccountID != acc.ID {
		t.Fatalf("job %+v does not follow its account %+v", j, acc)
	}

	tests := []struct {
		name      string
		do        func() error
		want      errs.Code
		wantField string
	}{
		{"no caller", func() error { _, err := s.Create(ctx, jobs.AppASG, asg("web")); return err }, errs.Unauthenticated, ""},
		{"an unknown group", func() error { _, err := s.Create(admin, jobs.AppASG, asg("nope")); return err }, errs.Invalid, "AutoScalingGroupName"},
		{"a role that cannot be assumed", func() error { _, err := s.Create(admin, jobs.AppASG, asg("locked")); return err }, errs.Invalid, "AccountId"},
		{"an account the caller does not see", func() error { _, err := s.Create(bob, jobs.AppASG, asg("web")); return err }, errs.Invalid, "AccountId"},
		{"a job the caller does not see", func() error { _, err := s.Get(bob, jobs.AppASG, j.ID); return err }, errs.NotFound, ""},
		{"a job of another app", func() error { _, err := s.Get(admin, jobs.AppAMI, j.ID); return err }, errs.NotFound, ""},
		{"moving a job to another account", func() error {
			_, err := s.Update(admin, jobs.AppASG, j.ID, jobs.Input{AccountID: ptr("A-00000000")})
			return err
		}, errs.Invalid, "AccountId"},
		{"an invalid update", func() error {
			_, err := s.Update(admin, jobs.AppASG, j.ID, jobs.Input{MinOnDemandInstanceCount: ptr(-1)})
			return err
		}, errs.Invalid, "MinOnDemandInstanceCount"},
		{"a valid update", func() error {
			_, err := s.Update(admin, jobs.AppASG, j.ID, jobs.Input{MinOnDemandInstanceCount: ptr(2), StandBy: ptr(true)})
			return err
		}, "", ""},
		{"groups of an account the caller does not see", func() error { _, err := s.ListGroups(bob, acc.ID, ""); return err }, errs.NotFound, ""},
		{"groups in an unknown region", func() error { _, err := s.ListGroups(admin, acc.ID, "mars-1"); return err }, errs.Invalid, "region"},
		{"a missing group", func() error { _, err := s.Group(admin, acc.ID, "", "nope"); return err }, errs.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if got := errs.CodeOf(err); got != tt.want {
				t.Fatalf("code = %q, want %q (%v)", got, tt.want, err)
			}
			if tt.wantField != "" {
				if _, ok := errs.As(err).Fields[tt.wantField]; !ok {
					t.Errorf("fields %v lack %s", errs.As(err).Fields, tt.wantField)
				}
			}
		})
	}

	got, err := s.Get(admin, jobs.AppASG, j.ID)
	if err != nil || got.ASG.MinOnDemandInstanceCount != 2 || !got.ASG.StandBy || got.ASG.AutoScalingGroupName != "web" {
		t.Fatalf("after update: %+v %v", got.ASG, err)
	}
	if err := s.Delete(admin, jobs.AppASG, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(admin, jobs.AppASG, j.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted job: %v", err)
	}
}
