package accounts

import (
	"context"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
)

// What hangs from an account (its projects, jobs, runs and run requests)
// belongs to the account's teams as they are now, not as they were when
// the object was made: those objects store only their AccountID, and who
// sees them is read from the account whenever they are read. Moving an
// account to other teams is then one write that moves everything under
// it at once, however many jobs and runs it has (docs/decisions.md, "Team
// scope through the account").

// Sees reports whether p sees what hangs from account id. Administrators
// see everything without a read; anyone else reads the account (one
// GetItem), and an account that does not exist is seen by no one.
func Sees(ctx context.Context, st Store, p identity.Principal, id string) (bool, error) {
	if p.IsAdmin() {
		return true, nil
	}
	a, err := st.GetAccount(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return p.Sees(a.Teams), nil
}

// Keep returns the items of a listing page that p sees, accountOf naming
// each item's account: one read of the page's accounts' teams
// (Store.AccountTeams) whatever the page holds, none for Administrators.
func Keep[T any](ctx context.Context, st Store, p identity.Principal, items []T, accountOf func(T) string) ([]T, error) {
	if p.IsAdmin() || len(items) == 0 {
		return items, nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, it := range items {
		if id := accountOf(it); !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	teams, err := st.AccountTeams(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		if ts, ok := teams[accountOf(it)]; ok && p.Sees(ts) {
			out = append(out, it)
		}
	}
	return out, nil
}
