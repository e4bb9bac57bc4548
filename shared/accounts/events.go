package accounts

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

// EventAccess keeps the event bus that receives customers' EC2 events open
// to exactly the AWS accounts of registered accounts (the 12-digit id in
// each account's role ARN): the stack's bus policy admits no one else.
// Allow and Revoke are idempotent. Implementations: package
// accounts/eventbridge (the bus's resource policy, a statement per AWS
// account) and LocalEventAccess (make run, which has no bus).
type EventAccess interface {
	Allow(ctx context.Context, awsAccountID string) error
	Revoke(ctx context.Context, awsAccountID string) error
}

// The order of the calls around the store is chosen so that a failure
// never leaves a registered account whose events the bus refuses:
//   - create and update allow the (new) AWS account before the record is
//     written; if the write fails the permission is taken back, unless
//     another registered account uses the same AWS account;
//   - delete and a role change to another AWS account revoke only after the
//     record is written, and only when no other registered account uses
//     that AWS account.
// A failed Allow fails the call with nothing written. A failed Revoke after
// the write fails the call with the record changed and says so: the bus
// then still admits an AWS account no longer registered (only its aws.ec2
// events, and the events function ignores instances batchplane did not
// launch), until an operator removes the statement (docs/operations.md).

// allow lets awsID's events onto the bus before a record naming it is
// written.
func (s *Service) allow(ctx context.Context, awsID string) error {
	if s.Events == nil || awsID == "" {
		return nil
	}
	if err := s.Events.Allow(ctx, awsID); err != nil {
		if errs.As(err) != nil {
			return err
		}
		return &errs.Error{Code: errs.Unavailable, Err: err, Message: "The event bus could not be opened to AWS account " +
			awsID + ", so its EC2 events would be refused; nothing was changed. Retry later."}
	}
	return nil
}

// release revokes awsID's access unless a registered account other than
// except still uses it. done says what was already written, for the error.
func (s *Service) release(ctx context.Context, awsID, except, done string) error {
	if s.Events == nil || awsID == "" {
		return nil
	}
	used, err := s.awsAccountInUse(ctx, awsID, except)
	if err == nil && used {
		return nil
	}
	if err == nil {
		err = s.Events.Revoke(ctx, awsID)
	}
	if err != nil {
		return &errs.Error{Code: errs.Unavailable, Err: err, Message: done + ", but the event bus still admits AWS account " +
			awsID + ": revoking its permission failed (see docs/operations.md to remove it)."}
	}
	return nil
}

// undoAllow takes back an allow whose record was not written, and returns
// the write's error (with the revoke's, if that failed too).
func (s *Service) undoAllow(ctx context.Context, awsID, except string, writeErr error) error {
	if err := s.release(context.WithoutCancel(ctx), awsID, except, "Nothing was changed"); err != nil {
		return errors.Join(writeErr, err)
	}
	return writeErr
}

// awsAccountInUse reports whether a registered account other than except
// has its role in AWS account awsID.
func (s *Service) awsAccountInUse(ctx context.Context, awsID, except string) (bool, error) {
	pg := identity.Page{Limit: 100}
	for {
		list, next, err := s.Store.ListAccounts(ctx, nil, pg)
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(list, func(a Account) bool { return a.ID != except && a.AWSAccountID() == awsID }) {
			return true, nil
		}
		if next == "" {
			return false, nil
		}
		pg.Token = next
	}
}

// LocalEventAccess is the EventAccess of make run, which has no event bus:
// it records which AWS accounts are allowed, for the tests and for a look
// at what a deployment would do.
type LocalEventAccess struct {
	mu      sync.Mutex
	allowed []string
}

// Allow implements EventAccess.
func (l *LocalEventAccess) Allow(_ context.Context, awsAccountID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.allowed, awsAccountID) {
		l.allowed = append(l.allowed, awsAccountID)
	}
	return nil
}

// Revoke implements EventAccess.
func (l *LocalEventAccess) Revoke(_ context.Context, awsAccountID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.allowed = slices.DeleteFunc(l.allowed, func(id string) bool { return id == awsAccountID })
	return nil
}

// Allowed returns the allowed AWS accounts, sorted.
func (l *LocalEventAccess) Allowed() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.allowed)
	slices.Sort(out)
	return out
}
