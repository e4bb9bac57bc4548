package api

import (
	"net/http"
	"strconv"
	"time"
)

// keyJSON is an API key without its secret.
type keyJSON struct {
	AccessKey string
	UserId    int64 //nolint:revive // PascalCase like the rest of /api
	Status    string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// newKeyJSON is a freshly created key: the only time SecretKey is shown.
type newKeyJSON struct {
	AccessKey string
	SecretKey string
	UserId    int64 //nolint:revive // PascalCase like the rest of /api
	Status    string
	CreatedAt time.Time
}

type keyInput struct {
	UserId *int64 //nolint:revive // PascalCase like the rest of /api
}

// handleKeysList handles "GET /api/keys?UserId=".
func (s *Server) handleKeysList(w http.ResponseWriter, r *http.Request) {
	var uid int64
	if v := queryGet(r.URL.Query(), "UserId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			writeError(w, r, fieldErr("UserId", "UserId must be a positive integer."))
			return
		}
		uid = n
	}
	keys, err := s.deps.Identity.Keys(r.Context(), uid)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]keyJSON, len(keys))
	for i, k := range keys {
		out[i] = keyJSON{AccessKey: k.AccessKey, UserId: k.UserID, Status: k.Status, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
	}
	writeData(w, r, http.StatusOK, out, "")
}

// handleKeyAdd handles "POST /api/keys": a key for the caller, or for
// UserId when an Administrator asks. An empty body means the caller.
func (s *Server) handleKeyAdd(w http.ResponseWriter, r *http.Request) {
	var in keyInput
	if len(body(r)) > 0 {
		if err := decode(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
	}
	var uid int64
	if in.UserId != nil {
		if *in.UserId <= 0 {
			writeError(w, r, fieldErr("UserId", "UserId must be a positive integer."))
			return
		}
		uid = *in.UserId
	}
	k, err := s.deps.Identity.CreateKey(r.Context(), uid)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusCreated, newKeyJSON{AccessKey: k.AccessKey, SecretKey: k.SecretKey, UserId: k.UserID, Status: k.Status, CreatedAt: k.CreatedAt}, "")
}

// handleKeyRevoke handles "DELETE /api/keys/{id}".
func (s *Server) handleKeyRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Identity.RevokeKey(r.Context(), Param(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, true, "")
}
