package accounts_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/store/storetest"
)

// recorder is an accounts.EventAccess that records its calls and fails
// the ones fail names ("Allow 123456789012").
type recorder struct {
	calls []string
	fail  map[string]bool
}

func (r *recorder) call(op, id string) error {
	c := op + " " + id
	r.calls = append(r.calls, c)
	if r.fail[c] {
		return errors.New("eventbridge: throttled")
	}
	return nil
}

func (r *recorder) Allow(_ context.Context, id string) error  { return r.call("Allow", id) }
func (r *recorder) Revoke(_ context.Context, id string) error { return r.call("Revoke", id) }

func role(awsID string) *string { s := "arn:aws:iam::" + awsID + ":role/batchplane"; return &s }

func ptr(s string) *string { return &s }

// TestEventAccess checks that the event bus is kept in step with account
// registration: one Allow per registration, one Revoke when the last
// account of an AWS account goes, and that a failed call leaves no
// registered account whose events the bus would refuse.
func TestEventAccess(t *testing.T) {
	const a, b = "111111111111", "222222222222"
	tests := []struct {
		name string
		// run acts on svc; it returns the error of the step under test.
		run       func(ctx context.Context, svc *accounts.Service) error
		fail      []string
		wantCalls []string
		wantCode  errs.Code // of run's error; "" for none
		wantIn    []string  // the AWS accounts of the accounts registered afterwards
	}{
		{"create allows its AWS account once", func(ctx context.Context, svc *accounts.Service) error {
			_, err := svc.Create(ctx, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			return err
		}, nil, []string{"Allow " + a}, "", []string{a}},
		{"a failed allow registers nothing", func(ctx context.Context, svc *accounts.Service) error {
			_, err := svc.Create(ctx, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			return err
		}, []string{"Allow " + a}, []string{"Allow " + a}, errs.Unavailable, nil},
		{"a failed write takes the allow back", func(ctx context.Context, svc *accounts.Service) error {
			svc.NewID = func() string { return "same" }
			if _, err := svc.Create(ctx, accounts.Input{Name: ptr("one"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)}); err != nil {
				return err
			}
			_, err := svc.Create(ctx, accounts.Input{Name: ptr("two"), BaseRegion: ptr("us-east-1"), RoleArn: role(b)})
			return err
		}, nil, []string{"Allow " + a, "Allow " + b, "Revoke " + b}, errs.Conflict, []string{a}},
		{"a failed write keeps an allow another account uses", func(ctx context.Context, svc *accounts.Service) error {
			svc.NewID = func() string { return "same" }
			if _, err := svc.Create(ctx, accounts.Input{Name: ptr("one"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)}); err != nil {
				return err
			}
			_, err := svc.Create(ctx, accounts.Input{Name: ptr("two"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			return err
		}, nil, []string{"Allow " + a, "Allow " + a}, errs.Conflict, []string{a}},
		{"delete revokes", func(ctx context.Context, svc *accounts.Service) error {
			acc, err := svc.Create(ctx, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			if err != nil {
				return err
			}
			return svc.Delete(ctx, acc.ID)
		}, nil, []string{"Allow " + a, "Revoke " + a}, "", nil},
		{"delete keeps an AWS account another account uses", func(ctx context.Context, svc *accounts.Service) error {
			one, err := svc.Create(ctx, accounts.Input{Name: ptr("one"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			if err != nil {
				return err
			}
			if _, err := svc.Create(ctx, accounts.Input{Name: ptr("two"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)}); err != nil {
				return err
			}
			return svc.Delete(ctx, one.ID)
		}, nil, []string{"Allow " + a, "Allow " + a}, "", []string{a}},
		{"a failed revoke: deleted, and the error says the bus still admits it", func(ctx context.Context, svc *accounts.Service) error {
			acc, err := svc.Create(ctx, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			if err != nil {
				return err
			}
			err = svc.Delete(ctx, acc.ID)
			if err == nil || !strings.Contains(errs.As(err).Message, "was deleted, but the event bus still admits AWS account "+a) {
				t.Errorf("Delete: %v", err)
			}
			return err
		}, []string{"Revoke " + a}, []string{"Allow " + a, "Revoke " + a}, errs.Unavailable, nil},
		{"a role moved to another AWS account: allow the new, then revoke the old", func(ctx context.Context, svc *accounts.Service) error {
			acc, err := svc.Create(ctx, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			if err != nil {
				return err
			}
			_, err = svc.Update(ctx, acc.ID, accounts.Input{RoleArn: role(b)})
			return err
		}, nil, []string{"Allow " + a, "Allow " + b, "Revoke " + a}, "", []string{b}},
		{"a rename allows again (how older accounts are let in)", func(ctx context.Context, svc *accounts.Service) error {
			acc, err := svc.Create(ctx, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			if err != nil {
				return err
			}
			_, err = svc.Update(ctx, acc.ID, accounts.Input{Name: ptr("production")})
			return err
		}, nil, []string{"Allow " + a, "Allow " + a}, "", []string{a}},
		{"a failed allow on update changes nothing", func(ctx context.Context, svc *accounts.Service) error {
			acc, err := svc.Create(ctx, accounts.Input{Name: ptr("prod"), BaseRegion: ptr("us-east-1"), RoleArn: role(a)})
			if err != nil {
				return err
			}
			_, err = svc.Update(ctx, acc.ID, accounts.Input{RoleArn: role(b)})
			return err
		}, []string{"Allow " + b}, []string{"Allow " + a, "Allow " + b}, errs.Unavailable, []string{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.New(t)
			_, admin := storetest.Admin(t, st)
			rec := &recorder{fail: map[string]bool{}}
			for _, f := range tt.fail {
				rec.fail[f] = true
			}
			svc := accounts.NewService(st, st)
			svc.Events = rec
			err := tt.run(admin, svc)
			if got := errs.CodeOf(err); got != tt.wantCode {
				t.Errorf("error %v (code %q), want code %q", err, got, tt.wantCode)
			}
			if !slices.Equal(rec.calls, tt.wantCalls) {
				t.Errorf("calls %v, want %v", rec.calls, tt.wantCalls)
			}
			list, _, err := svc.List(admin, identity.Page{})
			if err != nil {
				t.Fatal(err)
			}
			var in []string
			for _, acc := range list {
				in = append(in, acc.AWSAccountID())
			}
			slices.Sort(in)
			if !slices.Equal(in, tt.wantIn) {
				t.Errorf("registered AWS accounts %v, want %v", in, tt.wantIn)
			}
		})
	}
}

func TestLocalEventAccess(t *testing.T) {
	ctx := context.Background()
	var l accounts.LocalEventAccess
	for _, step := range []struct {
		allow bool
		id    string
		want  []string
	}{
		{true, "222222222222", []string{"222222222222"}},
		{true, "111111111111", []string{"111111111111", "222222222222"}},
		{true, "111111111111", []string{"111111111111", "222222222222"}},
		{false, "222222222222", []string{"111111111111"}},
		{false, "333333333333", []string{"111111111111"}},
	} {
		var err error
		if step.allow {
			err = l.Allow(ctx, step.id)
		} else {
			err = l.Revoke(ctx, step.id)
		}
		if err != nil || !slices.Equal(l.Allowed(), step.want) {
			t.Fatalf("after %+v: %v, %v", step, l.Allowed(), err)
		}
	}
}
