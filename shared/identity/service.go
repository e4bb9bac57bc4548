package identity

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

// Bootstrap creates the default team, an Administrator and a key pair on an
// empty organization. It returns created=false (and no key) if the
// organization already has its default team.
func (s *Service) Bootstrap(ctx context.Context, adminUserName string) (nk NewKey, created bool, err error) {
	if _, err := s.Store.GetTeamByName(ctx, defaultTeamKey); err == nil {
		return NewKey{}, false, nil
	} else if !errs.Is(err, errs.NotFound) {
		return NewKey{}, false, err
	}
	t := Team{ID: "Z-" + s.NewID(), Name: DefaultTeamName, NameKey: defaultTeamKey, IsDefault: true, CreatedAt: s.now()}
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
