package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/batchplane/batchplane/shared/errs"
)

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
