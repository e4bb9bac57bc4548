package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/routes"
)

// Keys is the keys function's binding: functions/keys serves it (app.HTTP(api.Keys())),
// so that binary links these handlers and no other function's.
func Keys() Binding { return Binding{routes.FnKeys, (*Server).keysRoutes} }

// keysRoutes binds the routes of the keys function.
func (s *Server) keysRoutes() []endpoint {
	return []endpoint{
		op("keys.list", http.StatusOK, data, s.handleKeysList),
		op("keys.add", http.StatusCreated, data, s.handleKeyAdd),
		op("keys.revoke", http.StatusOK, data, s.handleKeyRevoke),
	}
}

// keyJSON is an API key without its secret.
type keyJSON struct {
	AccessKey string
	UserID    int64  `json:"UserId"`
	Status    string `enum:"Active,Revoked"`
	CreatedAt time.Time
	RevokedAt *time.Time
}

// newKeyJSON is a freshly created key: the only time SecretKey is shown.
type newKeyJSON struct {
	AccessKey string
	SecretKey string
	UserID    int64  `json:"UserId"`
	Status    string `enum:"Active,Revoked"`
	CreatedAt time.Time
}

// keyInput is the body of "POST /api/keys"; an empty body means the caller.
type keyInput struct {
	UserID *int64 `json:"UserId"`
}

func (keyInput) bodyOptional() {}

// handleKeysList handles "GET /api/keys?UserId=".
func (s *Server) handleKeysList(r *http.Request, _ *noBody) (*[]keyJSON, error) {
	var uid int64
	if v := queryGet(r.URL.Query(), "UserId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, fieldErr("UserId", "UserId must be a positive integer.")
		}
		uid = n
	}
	keys, err := s.deps.Identity.Keys(r.Context(), uid)
	if err != nil {
		return nil, err
	}
	out := make([]keyJSON, len(keys))
	for i, k := range keys {
		out[i] = keyJSON{AccessKey: k.AccessKey, UserID: k.UserID, Status: k.Status, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
	}
	return &out, nil
}

// handleKeyAdd handles "POST /api/keys": a key for the caller, or for
// UserId when an Administrator asks.
func (s *Server) handleKeyAdd(r *http.Request, in *keyInput) (*newKeyJSON, error) {
	var uid int64
	if in.UserID != nil {
		if *in.UserID <= 0 {
			return nil, fieldErr("UserId", "UserId must be a positive integer.")
		}
		uid = *in.UserID
	}
	k, err := s.deps.Identity.CreateKey(r.Context(), uid)
	if err != nil {
		return nil, err
	}
	out := newKey(k)
	return &out, nil
}

func newKey(k identity.NewKey) newKeyJSON {
	return newKeyJSON{AccessKey: k.AccessKey, SecretKey: k.SecretKey, UserID: k.UserID, Status: k.Status, CreatedAt: k.CreatedAt}
}

// handleKeyRevoke handles "DELETE /api/keys/{id}".
func (s *Server) handleKeyRevoke(r *http.Request, _ *noBody) (bool, error) {
	if err := s.deps.Identity.RevokeKey(r.Context(), Param(r, "id")); err != nil {
		return false, err
	}
	return true, nil
}
