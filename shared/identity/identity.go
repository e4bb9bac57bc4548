// Package identity holds batchplane's users, teams and API keys: their
// types, validation and rules (who may see and change what). It knows
// neither HTTP nor AWS: the store package implements Store, the secrets
// package implements Sealer.
package identity

import (
	"context"
	"slices"
	"time"

	"github.com/batchplane/batchplane/shared/errs"
)

// Roles a user can hold.
const (
	// RoleAdministrator manages users, teams and accounts and sees everything.
	RoleAdministrator = "Administrator"
	// RoleUser sees and uses only what belongs to their teams.
	RoleUser = "User"
)

// DefaultTeamName is the team every organization starts with; accounts and
// users without explicit teams belong to it, and it cannot be deleted.
const DefaultTeamName = "Organization"

// Team is a group of users; accounts (and everything hanging from them)
// belong to one or more teams.
type Team struct {
	ID   string
	Name string // canonical (NFKC): see canonicalTeamName
	// NameKey is the key names are unique by (TeamNameKey(Name)); the
	// store keeps it so that a rename frees the key the team held.
	NameKey     string
	Description *string
	IsDefault   bool
	CreatedAt   time.Time
}

// User is a person or program that calls the API.
type User struct {
	ID        int64
	UserName  string // an e-mail address, unique case-insensitively
	FullName  string
	Role      string
	Teams     []string // team ids
	CreatedAt time.Time
}

// IsAdmin reports whether the user is an Administrator.
func (u User) IsAdmin() bool { return u.Role == RoleAdministrator }

// Key statuses.
const (
	KeyActive  = "Active"
	KeyRevoked = "Revoked"
)

// MaxActiveKeys is how many active keys a user may hold: two, so a key can
// be rotated without downtime.
const MaxActiveKeys = 2

// Key is an API key pair. The secret is only ever returned by CreateKey; the
// store keeps it sealed.
type Key struct {
	AccessKey string
	UserID    int64
	Status    string
	CreatedAt time.Time
	RevokedAt *time.Time
	// Sealed is the secret sealed by a Sealer; never shown.
	Sealed []byte
}

// Principal is the authenticated caller of a request.
type Principal struct {
	User      User
	AccessKey string
}

// IsAdmin reports whether the caller is an Administrator.
func (p Principal) IsAdmin() bool { return p.User.IsAdmin() }

// Sees reports whether the caller may see an object that belongs to teams:
// administrators see everything, others what shares a team with them.
func (p Principal) Sees(teams []string) bool {
	if p.IsAdmin() {
		return true
	}
	for _, t := range teams {
		if slices.Contains(p.User.Teams, t) {
			return true
		}
	}
	return false
}

// Scope returns the team ids a listing must be filtered by, or nil for no
// filter (administrators).
func (p Principal) Scope() []string {
	if p.IsAdmin() {
		return nil
	}
	if p.User.Teams == nil {
		return []string{}
	}
	return p.User.Teams
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller carried by ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Caller returns the principal carried by ctx, or an Unauthenticated error.
func Caller(ctx context.Context) (Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return Principal{}, errs.E(errs.Unauthenticated, "Authentication required.")
	}
	return p, nil
}

// Admin returns the principal carried by ctx if it is an Administrator:
// Unauthenticated without one, Forbidden (with message) for anyone else.
func Admin(ctx context.Context, message string) (Principal, error) {
	p, err := Caller(ctx)
	if err != nil {
		return p, err
	}
	if !p.IsAdmin() {
		return p, errs.E(errs.Forbidden, "%s", message)
	}
	return p, nil
}

// Page asks for one page of a listing.
type Page struct {
	// Token is the opaque continuation token of the previous page, or "".
	Token string
	// Limit is the page size; the store caps it.
	Limit int
}

// Store persists identity objects. Get methods return an errs.NotFound
// error when the object does not exist; Create methods return errs.Conflict
// when a unique name is taken.
type Store interface {
	CreateTeam(ctx context.Context, t Team) error
	GetTeam(ctx context.Context, id string) (Team, error)
	// GetTeamByName returns the team whose NameKey is nameKey.
	GetTeamByName(ctx context.Context, nameKey string) (Team, error)
	// ListTeams lists teams; ids, when not nil, restricts it to those teams.
	ListTeams(ctx context.Context, ids []string, p Page) ([]Team, string, error)
	// UpdateTeam replaces name and description, keeping name keys unique.
	UpdateTeam(ctx context.Context, old, t Team) error
	// DeleteTeam deletes a team and its memberships; errs.Conflict if
	// anything still references it.
	DeleteTeam(ctx context.Context, t Team) error
	ListTeamUsers(ctx context.Context, teamID string, p Page) ([]User, string, error)
	// AddTeamUsers makes users members of the team (idempotently).
	AddTeamUsers(ctx context.Context, teamID string, users []User) error
	// RemoveTeamUser ends a user's membership of the team; errs.NotFound
	// if the user is not a member.
	RemoveTeamUser(ctx context.Context, teamID string, u User) error

	// NextUserID allocates a user id.
	NextUserID(ctx context.Context) (int64, error)
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id int64) (User, error)
	GetUserByName(ctx context.Context, userName string) (User, error)
	// ListUsers lists users; teams, when not nil, keeps those in any of them.
	ListUsers(ctx context.Context, teams []string, p Page) ([]User, string, error)
	// UpdateUser replaces the user's names and role, keeping user names unique.
	UpdateUser(ctx context.Context, old, u User) error

	// CreateKey stores a key; errs.Conflict if the user already holds
	// MaxActiveKeys active keys.
	CreateKey(ctx context.Context, k Key) error
	GetKey(ctx context.Context, accessKey string) (Key, error)
	ListKeys(ctx context.Context, userID int64) ([]Key, error)
	RevokeKey(ctx context.Context, k Key, at time.Time) error
}

// Sealer encrypts API secrets so that a dump of the table alone never yields
// a usable secret. The context binds a sealed value to its owner.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, context string) ([]byte, error)
	Open(ctx context.Context, sealed []byte, context string) ([]byte, error)
}
