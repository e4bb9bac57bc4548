package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/errs"
)

// Service applies identity rules on top of a Store.
type Service struct {
	Store  Store
	Sealer Sealer
	Now    func() time.Time
	// NewID returns a new random id suffix (8 upper-case hex digits).
	NewID func() string

	names         teamNames
	defaultTeamID atomic.Value
	secrets       sync.Map // access key → openedSecret
}

// NewService returns a Service with the real clock and id source.
func NewService(store Store, sealer Sealer) *Service {
	return &Service{Store: store, Sealer: sealer, Now: time.Now, NewID: RandomHex8}
}

// RandomHex8 returns 8 random upper-case hex digits, as the documented ids
// (A-7EADA1C0) show.
func RandomHex8() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(fmt.Sprintf("%x", b[:]))
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func requireAdmin(ctx context.Context) (Principal, error) {
	return Admin(ctx, "Only an Administrator may do this.")
}

// ---- teams ----

// TeamInput is what a caller may set on a team.
type TeamInput struct {
	Name        *string
	Description *string
}

func validateTeam(in TeamInput, create bool) (name string, err error) {
	f := errs.Fields{}
	if in.Name == nil {
		if create {
			f.Add("Name", "Name is required.")
		}
	} else {
		name = strings.TrimSpace(*in.Name)
		switch {
		case name == "":
			f.Add("Name", "Name must not be empty.")
		case utf8.RuneCountInString(name) > 64:
			f.Add("Name", "Name must be at most 64 characters.")
		case strings.ContainsAny(name, "/\\?#%"):
			f.Add("Name", "Name must not contain / \\ ? # or %.")
		case teamIDRE.MatchString(name):
			f.Add("Name", "Name must not look like a team id.")
		}
	}
	if in.Description != nil && utf8.RuneCountInString(*in.Description) > 512 {
		f.Add("Description", "Description must be at most 512 characters.")
	}
	return name, f.Err()
}

// CreateTeam creates a team (Administrators only).
func (s *Service) CreateTeam(ctx context.Context, in TeamInput) (Team, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return Team{}, err
	}
	name, err := validateTeam(in, true)
	if err != nil {
		return Team{}, err
	}
	t := Team{ID: "Z-" + s.NewID(), Name: name, Description: in.Description, CreatedAt: s.now()}
	if err := s.Store.CreateTeam(ctx, t); err != nil {
		return Team{}, err
	}
	s.names.invalidate()
	return t, nil
}

// teamIDRE matches team ids; anything else in a team path is a name (team
// names cannot look like ids: see validateTeam).
var teamIDRE = regexp.MustCompile(`^Z-[0-9A-F]{8}$`)

// Team returns a team by id or name, if the caller may see it.
func (s *Service) Team(ctx context.Context, idOrName string) (Team, error) {
	p, err := Caller(ctx)
	if err != nil {
		return Team{}, err
	}
	var t Team
	if teamIDRE.MatchString(idOrName) {
		t, err = s.Store.GetTeam(ctx, idOrName)
	} else {
		t, err = s.Store.GetTeamByName(ctx, idOrName)
	}
	if err != nil {
		return Team{}, err
	}
	if !p.Sees([]string{t.ID}) {
		return Team{}, errs.NotFoundf("Team %q not found.", idOrName)
	}
	return t, nil
}

// Teams lists the teams the caller may see.
func (s *Service) Teams(ctx context.Context, pg Page) ([]Team, string, error) {
	p, err := Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListTeams(ctx, p.Scope(), pg)
}

// MyTeams lists the caller's own teams.
func (s *Service) MyTeams(ctx context.Context, pg Page) ([]Team, string, error) {
	p, err := Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	ids := p.User.Teams
	if ids == nil {
		ids = []string{}
	}
	return s.Store.ListTeams(ctx, ids, pg)
}

// UpdateTeam changes a team's name or description (Administrators only).
func (s *Service) UpdateTeam(ctx context.Context, idOrName string, in TeamInput) (Team, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return Team{}, err
	}
	name, err := validateTeam(in, false)
	if err != nil {
		return Team{}, err
	}
	old, err := s.Team(ctx, idOrName)
	if err != nil {
		return Team{}, err
	}
	t := old
	if in.Name != nil {
		if old.IsDefault && name != old.Name {
			return Team{}, errs.Field("Name", "The default team cannot be renamed.")
		}
		t.Name = name
	}
	if in.Description != nil {
		t.Description = in.Description
	}
	if err := s.Store.UpdateTeam(ctx, old, t); err != nil {
		return Team{}, err
	}
	s.names.invalidate()
	return t, nil
}

// DeleteTeam deletes a team that nothing references (Administrators only).
func (s *Service) DeleteTeam(ctx context.Context, idOrName string) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	t, err := s.Team(ctx, idOrName)
	if err != nil {
		return err
	}
	if t.IsDefault {
		return errs.E(errs.Conflict, "The default team %q cannot be deleted.", t.Name)
	}
	s.names.invalidate()
	return s.Store.DeleteTeam(ctx, t)
}

// TeamUsers lists a team's members.
func (s *Service) TeamUsers(ctx context.Context, idOrName string, pg Page) ([]User, string, error) {
	t, err := s.Team(ctx, idOrName)
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListTeamUsers(ctx, t.ID, pg)
}

// AddTeamUsers adds users, named by user name, to a team (Administrators only).
func (s *Service) AddTeamUsers(ctx context.Context, idOrName string, userNames []string) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	if len(userNames) == 0 {
		return errs.Field("UserName", "At least one user name is required.")
	}
	if len(userNames) > 25 {
		return errs.Field("UserName", "At most 25 users can be added at once.")
	}
	t, err := s.Team(ctx, idOrName)
	if err != nil {
		return err
	}
	users := make([]User, 0, len(userNames))
	seen := map[int64]bool{}
	for _, n := range userNames {
		u, err := s.Store.GetUserByName(ctx, strings.TrimSpace(n))
		if errs.Is(err, errs.NotFound) {
			return errs.Field("UserName", fmt.Sprintf("User %q does not exist.", n))
		}
		if err != nil {
			return err
		}
		if !seen[u.ID] {
			seen[u.ID] = true
			users = append(users, u)
		}
	}
	return s.Store.AddTeamUsers(ctx, t.ID, users)
}

// defaultTeam returns the default team's id, cached: it can be neither
// renamed nor deleted.
func (s *Service) defaultTeam(ctx context.Context) (string, error) {
	if id, ok := s.defaultTeamID.Load().(string); ok {
		return id, nil
	}
	t, err := s.Store.GetTeamByName(ctx, DefaultTeamName)
	if err != nil {
		return "", err
	}
	s.defaultTeamID.Store(t.ID)
	return t.ID, nil
}

// ---- users ----

// UserInput is what a caller may set on a user.
type UserInput struct {
	UserName *string
	FullName *string
	Role     *string
}

func validateUser(in UserInput, create bool) error {
	f := errs.Fields{}
	if in.UserName == nil {
		if create {
			f.Add("UserName", "UserName is required.")
		}
	} else if a, err := mail.ParseAddress(*in.UserName); err != nil || a.Address != *in.UserName || len(*in.UserName) > 254 {
		f.Add("UserName", "UserName must be an e-mail address.")
	}
	if in.FullName == nil {
		if create {
			f.Add("FullName", "FullName is required.")
		}
	} else if n := strings.TrimSpace(*in.FullName); n == "" || utf8.RuneCountInString(n) > 128 {
		f.Add("FullName", "FullName must be 1 to 128 characters.")
	}
	if in.Role == nil {
		if create {
			f.Add("Role", "Role is required.")
		}
	} else if *in.Role != RoleAdministrator && *in.Role != RoleUser {
		f.Add("Role", "Role must be Administrator or User.")
	}
	return f.Err()
}

// CreateUser adds a user to the organization and its default team
// (Administrators only).
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return User{}, err
	}
	if err := validateUser(in, true); err != nil {
		return User{}, err
	}
	def, err := s.defaultTeam(ctx)
	if err != nil {
		return User{}, fmt.Errorf("create user: default team: %w", err)
	}
	return s.createUser(ctx, *in.UserName, strings.TrimSpace(*in.FullName), *in.Role, def)
}

func (s *Service) createUser(ctx context.Context, userName, fullName, role, teamID string) (User, error) {
	id, err := s.Store.NextUserID(ctx)
	if err != nil {
		return User{}, err
	}
	u := User{ID: id, UserName: userName, FullName: fullName, Role: role, Teams: []string{teamID}, CreatedAt: s.now()}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// User returns a user the caller may see: administrators see everyone,
// others themselves and those who share a team with them.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	p, err := Caller(ctx)
	if err != nil {
		return User{}, err
	}
	u, err := s.Store.GetUser(ctx, id)
	if err != nil {
		return User{}, err
	}
	if u.ID != p.User.ID && !p.Sees(u.Teams) {
		return User{}, errs.NotFoundf("User %d not found.", id)
	}
	return u, nil
}

// Users lists the users the caller may see.
func (s *Service) Users(ctx context.Context, pg Page) ([]User, string, error) {
	p, err := Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListUsers(ctx, p.Scope(), pg)
}

// UpdateUser changes a user (Administrators only; an administrator cannot
// demote themselves, so the organization always keeps one).
func (s *Service) UpdateUser(ctx context.Context, id int64, in UserInput) (User, error) {
	p, err := requireAdmin(ctx)
	if err != nil {
		return User{}, err
	}
	if err := validateUser(in, false); err != nil {
		return User{}, err
	}
	old, err := s.User(ctx, id)
	if err != nil {
		return User{}, err
	}
	u := old
	if in.UserName != nil {
		u.UserName = *in.UserName
	}
	if in.FullName != nil {
		u.FullName = strings.TrimSpace(*in.FullName)
	}
	if in.Role != nil {
		if old.ID == p.User.ID && *in.Role != RoleAdministrator {
			return User{}, errs.Field("Role", "You cannot remove your own Administrator role.")
		}
		u.Role = *in.Role
	}
	if err := s.Store.UpdateUser(ctx, old, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// ---- keys ----

// NewKey is a freshly created key with its secret, shown once.
type NewKey struct {
	Key
	SecretKey string
}

// CreateKey creates a key pair for the caller or, for an Administrator, for
// any user (userID 0 means the caller).
func (s *Service) CreateKey(ctx context.Context, userID int64) (NewKey, error) {
	p, err := Caller(ctx)
	if err != nil {
		return NewKey{}, err
	}
	if userID == 0 {
		userID = p.User.ID
	}
	if userID != p.User.ID {
		if !p.IsAdmin() {
			return NewKey{}, errs.E(errs.Forbidden, "Only an Administrator may create keys for other users.")
		}
		if _, err := s.Store.GetUser(ctx, userID); err != nil {
			if errs.Is(err, errs.NotFound) {
				return NewKey{}, errs.Field("UserId", fmt.Sprintf("User %d does not exist.", userID))
			}
			return NewKey{}, err
		}
	}
	return s.issueKey(ctx, userID)
}

func (s *Service) issueKey(ctx context.Context, userID int64) (NewKey, error) {
	ak, sk := newKeyPair()
	sealed, err := s.Sealer.Seal(ctx, []byte(sk), ak)
	if err != nil {
		return NewKey{}, fmt.Errorf("seal secret of %s: %w", ak, err)
	}
	k := Key{AccessKey: ak, UserID: userID, Status: KeyActive, CreatedAt: s.now(), Sealed: sealed}
	if err := s.Store.CreateKey(ctx, k); err != nil {
		return NewKey{}, err
	}
	return NewKey{Key: k, SecretKey: sk}, nil
}

// newKeyPair returns an access key id (20 characters, like AWS's) and a
// 40-character secret.
func newKeyPair() (accessKey, secret string) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [16]byte
	_, _ = rand.Read(b[:])
	var sb strings.Builder
	sb.WriteString("BPAK")
	for _, c := range b {
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	var s [30]byte
	_, _ = rand.Read(s[:])
	return sb.String(), base64.RawURLEncoding.EncodeToString(s[:])
}

// Keys lists a user's keys without secrets: the caller's own, or any user's
// for an Administrator (userID 0 means the caller).
func (s *Service) Keys(ctx context.Context, userID int64) ([]Key, error) {
	p, err := Caller(ctx)
	if err != nil {
		return nil, err
	}
	if userID == 0 {
		userID = p.User.ID
	}
	if userID != p.User.ID && !p.IsAdmin() {
		return nil, errs.NotFoundf("User %d not found.", userID)
	}
	return s.Store.ListKeys(ctx, userID)
}

// RevokeKey revokes one of the caller's keys, or any key for an Administrator.
func (s *Service) RevokeKey(ctx context.Context, accessKey string) error {
	p, err := Caller(ctx)
	if err != nil {
		return err
	}
	k, err := s.Store.GetKey(ctx, accessKey)
	if err != nil {
		return err
	}
	if k.UserID != p.User.ID && !p.IsAdmin() {
		return errs.NotFoundf("Key %q not found.", accessKey)
	}
	if k.Status == KeyRevoked {
		return nil
	}
	return s.Store.RevokeKey(ctx, k, s.now())
}

// Credential is what authentication needs of a key: its user and secret.
type Credential struct {
	Key    Key
	User   User
	Secret string
}

// ErrBadCredentials is returned for every authentication failure, so that
// callers cannot tell an unknown key from a revoked one or a wrong secret.
var ErrBadCredentials = errs.E(errs.Unauthenticated, "The credentials are missing or invalid.")

// Lookup returns an active key's credential, or ErrBadCredentials.
func (s *Service) Lookup(ctx context.Context, accessKey string) (Credential, error) {
	if accessKey == "" || len(accessKey) > 128 {
		return Credential{}, ErrBadCredentials
	}
	k, err := s.Store.GetKey(ctx, accessKey)
	if errs.Is(err, errs.NotFound) {
		return Credential{}, ErrBadCredentials
	}
	if err != nil {
		return Credential{}, err
	}
	if k.Status != KeyActive {
		return Credential{}, ErrBadCredentials
	}
	u, err := s.Store.GetUser(ctx, k.UserID)
	if errs.Is(err, errs.NotFound) {
		return Credential{}, ErrBadCredentials
	}
	if err != nil {
		return Credential{}, err
	}
	secret, err := s.openSecret(ctx, k)
	if err != nil {
		return Credential{}, err
	}
	return Credential{Key: k, User: u, Secret: secret}, nil
}

// openSecret unseals a key's secret once per process: a sealed secret never
// changes (rotation makes a new key), and the key's status is still read on
// every request, so revocation takes effect at once. In AWS this saves a
// KMS Decrypt per request.
func (s *Service) openSecret(ctx context.Context, k Key) (string, error) {
	sum := sha256.Sum256(k.Sealed)
	if v, ok := s.secrets.Load(k.AccessKey); ok {
		if c := v.(openedSecret); c.sealed == sum {
			return c.secret, nil
		}
	}
	b, err := s.Sealer.Open(ctx, k.Sealed, k.AccessKey)
	if err != nil {
		return "", fmt.Errorf("open secret of %s: %w", k.AccessKey, err)
	}
	s.secrets.Store(k.AccessKey, openedSecret{sealed: sum, secret: string(b)})
	return string(b), nil
}

type openedSecret struct {
	sealed [32]byte
	secret string
}

// CheckSecret compares a presented secret with the credential's in constant time.
func (c Credential) CheckSecret(presented string) error {
	if subtle.ConstantTimeCompare([]byte(presented), []byte(c.Secret)) != 1 {
		return ErrBadCredentials
	}
	return nil
}

// Bootstrap creates the default team, an Administrator and a key pair on an
// empty organization. It returns created=false (and no key) if the
// organization already has its default team.
func (s *Service) Bootstrap(ctx context.Context, adminUserName string) (nk NewKey, created bool, err error) {
	if _, err := s.Store.GetTeamByName(ctx, DefaultTeamName); err == nil {
		return NewKey{}, false, nil
	} else if !errs.Is(err, errs.NotFound) {
		return NewKey{}, false, err
	}
	t := Team{ID: "Z-" + s.NewID(), Name: DefaultTeamName, IsDefault: true, CreatedAt: s.now()}
	if err := s.Store.CreateTeam(ctx, t); err != nil {
		if errs.Is(err, errs.Conflict) {
			return NewKey{}, false, nil // another process won the race
		}
		return NewKey{}, false, err
	}
	u, err := s.createUser(ctx, adminUserName, "Administrator", RoleAdministrator, t.ID)
	if err != nil {
		return NewKey{}, false, err
	}
	nk, err = s.issueKey(ctx, u.ID)
	if err != nil {
		return NewKey{}, false, err
	}
	return nk, true, nil
}
