// Package accounts holds the customer AWS accounts batchplane works in:
// each is reached through a cross-account IAM role that trusts batchplane
// with a generated ExternalId (confused-deputy protection).
package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/regions"
)

// Account is a registered AWS account.
type Account struct {
	ID                   string
	Name                 string
	Platform             string
	BaseRegion           string
	RoleArn              string
	ExternalID           string
	Teams                []string // team ids
	ActiveProcessorCount float64
	MaxRIPercentageToUse float64
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// AWSAccountID returns the 12-digit account id from the role ARN.
func (a Account) AWSAccountID() string {
	if m := roleArnRE.FindStringSubmatch(a.RoleArn); m != nil {
		return m[1]
	}
	return ""
}

// Target is where to act in the account: its role, assumed with its
// ExternalId, in region.
func (a Account) Target(region string) cloud.Target {
	return cloud.Target{AccountID: a.ID, RoleArn: a.RoleArn, ExternalID: a.ExternalID, Region: region}
}

// Store persists accounts. Create and Update check, in the same
// transaction, that every team exists and count the reference, so a team
// in use cannot be deleted.
type Store interface {
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount reads consistently: an account's teams decide who sees
	// everything under it, so a move takes effect on the next read.
	GetAccount(ctx context.Context, id string) (Account, error)
	// ListAccounts lists accounts; teams, when not nil, keeps those in any of them.
	ListAccounts(ctx context.Context, teams []string, p identity.Page) ([]Account, string, error)
	UpdateAccount(ctx context.Context, old, a Account) error
	DeleteAccount(ctx context.Context, a Account) error
	// AccountTeams returns the teams of each of ids that exists, read
	// consistently in one request per 100 ids: what a listing of the
	// objects hanging from accounts is scoped by (Keep).
	AccountTeams(ctx context.Context, ids []string) (map[string][]string, error)
}

// TeamResolver turns team names (or ids) into teams.
type TeamResolver interface {
	GetTeam(ctx context.Context, id string) (identity.Team, error)
	// GetTeamByName takes identity.TeamNameKey of the name.
	GetTeamByName(ctx context.Context, nameKey string) (identity.Team, error)
}

// Service applies account rules.
type Service struct {
	Store Store
	Teams TeamResolver
	// Events keeps the event bus open to the registered AWS accounts
	// (events.go); nil where there is no bus to keep in step (the domain's
	// and store's tests). The functions serving the accounts routes set it.
	Events EventAccess
	Now    func() time.Time
	NewID  func() string
}

// NewService returns a Service with the real clock and ids.
func NewService(store Store, teams TeamResolver) *Service {
	return &Service{Store: store, Teams: teams, Now: time.Now, NewID: identity.RandomHex8}
}

// Input is what a caller may set on an account.
type Input struct {
	Name       *string
	BaseRegion *string
	RoleArn    *string
	Teams      *[]string // team names or ids
}

// roleArnRE matches an IAM role ARN; the path and name after "role/" are
// at most 512 characters, checked by length (a {1,512} repetition would
// compile into a 512-fold program, costing every cold start ~8 ms).
var roleArnRE = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/[\w+=,.@/-]+$`)

const roleArnPrefixLen = len("arn:aws:iam::123456789012:role/")

// ValidRoleArn reports whether s is an IAM role ARN.
func ValidRoleArn(s string) bool {
	return len(s) <= roleArnPrefixLen+512 && roleArnRE.MatchString(s)
}

func validate(in Input, create bool) error {
	f := errs.Fields{}
	if in.Name == nil {
		if create {
			f.Add("Name", "Name is required.")
		}
	} else if n := strings.TrimSpace(*in.Name); n == "" || utf8.RuneCountInString(n) > 128 {
		f.Add("Name", "Name must be 1 to 128 characters.")
	}
	if in.BaseRegion == nil {
		if create {
			f.Add("BaseRegion", "BaseRegion is required.")
		}
	} else if !regions.Valid(*in.BaseRegion) {
		f.Add("BaseRegion", fmt.Sprintf("%q is not a known region; see GET /api/caches/regions.", *in.BaseRegion))
	}
	if in.RoleArn == nil {
		if create {
			f.Add("RoleArn", "RoleArn is required.")
		}
	} else if !ValidRoleArn(*in.RoleArn) {
		f.Add("RoleArn", "RoleArn must look like arn:aws:iam::123456789012:role/name.")
	}
	if in.Teams != nil && len(*in.Teams) > 20 {
		f.Add("Teams", "At most 20 teams.")
	}
	return f.Err()
}

// resolveTeams maps names or ids to team ids; empty means the default team.
func (s *Service) resolveTeams(ctx context.Context, names []string) ([]string, error) {
	if len(names) == 0 {
		names = []string{identity.DefaultTeamName}
	}
	var ids []string
	seen := map[string]bool{}
	for _, n := range names {
		if len(n) > 1024 {
			return nil, errs.Field("Teams", "A team name is at most 64 characters.")
		}
		t, err := s.Teams.GetTeamByName(ctx, identity.TeamNameKey(n))
		if errs.Is(err, errs.NotFound) {
			t, err = s.Teams.GetTeam(ctx, n)
		}
		if errs.Is(err, errs.NotFound) {
			return nil, errs.Field("Teams", fmt.Sprintf("Team %q does not exist.", n))
		}
		if err != nil {
			return nil, err
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}

// Create registers an account (Administrators only) with a fresh ExternalId.
func (s *Service) Create(ctx context.Context, in Input) (Account, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return Account{}, err
	}
	if !p.IsAdmin() {
		return Account{}, errs.E(errs.Forbidden, "Only an Administrator may add accounts.")
	}
	if err := validate(in, true); err != nil {
		return Account{}, err
	}
	var names []string
	if in.Teams != nil {
		names = *in.Teams
	}
	teams, err := s.resolveTeams(ctx, names)
	if err != nil {
		return Account{}, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	a := Account{
		ID:         "A-" + s.NewID(),
		Name:       strings.TrimSpace(*in.Name),
		Platform:   regions.PlatformAWS,
		BaseRegion: *in.BaseRegion,
		RoleArn:    *in.RoleArn,
		ExternalID: newExternalID(),
		Teams:      teams,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if err := s.allow(ctx, a.AWSAccountID()); err != nil {
		return Account{}, err
	}
	if err := s.Store.CreateAccount(ctx, a); err != nil {
		return Account{}, s.undoAllow(ctx, a.AWSAccountID(), "", err) // a is not stored: no account to except
	}
	return a, nil
}

func newExternalID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "bp-" + hex.EncodeToString(b[:])
}

// Get returns an account the caller may see; others are not found.
func (s *Service) Get(ctx context.Context, id string) (Account, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return Account{}, err
	}
	a, err := s.Store.GetAccount(ctx, id)
	if err != nil {
		return Account{}, err
	}
	if !p.Sees(a.Teams) {
		return Account{}, errs.NotFoundf("Account %q not found.", id)
	}
	return a, nil
}

// List lists the accounts the caller may see.
func (s *Service) List(ctx context.Context, pg identity.Page) ([]Account, string, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListAccounts(ctx, p.Scope(), pg)
}

// Update changes an account (Administrators only).
func (s *Service) Update(ctx context.Context, id string, in Input) (Account, error) {
	old, err := s.Get(ctx, id)
	if err != nil {
		return Account{}, err
	}
	p, _ := identity.PrincipalFrom(ctx)
	if !p.IsAdmin() {
		return Account{}, errs.E(errs.Forbidden, "Only an Administrator may change accounts.")
	}
	if err := validate(in, false); err != nil {
		return Account{}, err
	}
	a := old
	if in.Name != nil {
		a.Name = strings.TrimSpace(*in.Name)
	}
	if in.BaseRegion != nil {
		a.BaseRegion = *in.BaseRegion
	}
	if in.RoleArn != nil {
		a.RoleArn = *in.RoleArn
	}
	if in.Teams != nil {
		if a.Teams, err = s.resolveTeams(ctx, *in.Teams); err != nil {
			return Account{}, err
		}
	}
	a.UpdatedAt = s.Now().UTC().Truncate(time.Millisecond)
	// Allowing again on every update is idempotent, and is how an account
	// registered before the bus admitted only registered accounts is let in.
	if err := s.allow(ctx, a.AWSAccountID()); err != nil {
		return Account{}, err
	}
	if err := s.Store.UpdateAccount(ctx, old, a); err != nil {
		if old.AWSAccountID() == a.AWSAccountID() {
			return Account{}, err // the permission was there before
		}
		return Account{}, s.undoAllow(ctx, a.AWSAccountID(), a.ID, err)
	}
	if old.AWSAccountID() != a.AWSAccountID() {
		if err := s.release(ctx, old.AWSAccountID(), a.ID, "Account "+a.ID+" was updated"); err != nil {
			return Account{}, err
		}
	}
	return a, nil
}

// Delete removes an account (Administrators only).
func (s *Service) Delete(ctx context.Context, id string) error {
	a, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	p, _ := identity.PrincipalFrom(ctx)
	if !p.IsAdmin() {
		return errs.E(errs.Forbidden, "Only an Administrator may delete accounts.")
	}
	if err := s.Store.DeleteAccount(ctx, a); err != nil {
		return err
	}
	return s.release(ctx, a.AWSAccountID(), a.ID, "Account "+a.ID+" was deleted")
}
