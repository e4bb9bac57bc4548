package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/idempotency"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/routes"
)

// IdempotencyTTL is how long a key's first response is kept.
const IdempotencyTTL = 24 * time.Hour

// recorder captures a response while writing it through.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent runs h once per Idempotency-Key: the same key with the same
// request replays the first response; with a different request it is a
// 409, as it is while the first request is still in progress.
//
// Records are scoped by route and by the caller's immutable user id (a
// user name can be renamed and reused); the record of a route whose
// response holds a secret is sealed with the scope as its context.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, rt routes.Route, h http.HandlerFunc) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" || s.deps.Idempotency == nil {
		h(w, r)
		return
	}
	if len(k) > 255 {
		writeError(w, r, errs.Field("Idempotency-Key", "Idempotency-Key must be at most 255 characters."))
		return
	}
	p, _ := identity.PrincipalFrom(r.Context())
	sum := sha256.Sum256([]byte(k))
	scope := rt.Name + "#" + strconv.FormatInt(p.User.ID, 10) + "#" + hex.EncodeToString(sum[:16])
	rh := sha256.New()
	rh.Write([]byte(r.Method + " " + r.URL.EscapedPath() + "?" + r.URL.RawQuery + "\n"))
	rh.Write(body(r))
	reqHash := hex.EncodeToString(rh.Sum(nil))
	expires := time.Now().Add(IdempotencyTTL)
	prev, claimed, err := s.deps.Idempotency.BeginIdempotent(r.Context(), scope, reqHash, expires)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !claimed {
		switch {
		case prev.RequestHash != reqHash:
			writeError(w, r, errs.E(errs.Conflict, "This Idempotency-Key was used with a different request."))
		case !prev.Done:
			writeError(w, r, errs.E(errs.Conflict, "A request with this Idempotency-Key is still in progress; retry shortly."))
		default:
			if rt.SecretResponse {
				if prev.Body, err = s.deps.Sealer.Open(r.Context(), prev.Body, scope); err != nil {
					writeError(w, r, fmt.Errorf("open the recorded response of %s: %w", rt.Name, err))
					return
				}
			}
			if prev.Location != "" {
				w.Header().Set("Location", prev.Location)
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.Status)
			_, _ = w.Write(prev.Body)
		}
		return
	}
	rec := &recorder{ResponseWriter: w}
	h(rec, r)
	// Keep successes and client errors; release the key after a server
	// error so the client's retry runs again.
	ctx := context.WithoutCancel(r.Context())
	if rec.status >= 500 {
		_ = s.deps.Idempotency.AbandonIdempotent(ctx, scope)
		return
	}
	body := rec.buf.Bytes()
	if rt.SecretResponse {
		sealed, err := s.deps.Sealer.Seal(ctx, body, scope)
		if err != nil {
			// The response was sent; without a sealed record the key is
			// released rather than kept in clear.
			slog.ErrorContext(ctx, "seal idempotent response", "route", rt.Name, "err", err, "request_id", RequestID(ctx))
			_ = s.deps.Idempotency.AbandonIdempotent(ctx, scope)
			return
		}
		body = sealed
	}
	_ = s.deps.Idempotency.CompleteIdempotent(ctx, scope, idempotency.Record{RequestHash: reqHash, Done: true, Status: rec.status,
		Location: w.Header().Get("Location"), Body: body}, expires)
}
