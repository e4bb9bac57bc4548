// Package idempotency describes the first response to an Idempotency-Key
// and the store that keeps it per (caller, route, key). The API replays the
// record; the store persists it. It imports neither HTTP nor the AWS SDK.
package idempotency

import (
	"context"
	"time"
)

// Record is the first response to an Idempotency-Key: claimed (Done false)
// while the first request runs, then its status, Location and body.
type Record struct {
	RequestHash string
	Done        bool
	Status      int
	Location    string
	Body        []byte
}

// Store keeps the first response per scope (caller, route and key).
type Store interface {
	// BeginIdempotent claims scope for requestHash; if the scope was claimed
	// before it returns that record and claimed=false.
	BeginIdempotent(ctx context.Context, scope, requestHash string, expires time.Time) (prev Record, claimed bool, err error)
	// CompleteIdempotent stores the response of a claimed scope.
	CompleteIdempotent(ctx context.Context, scope string, rec Record, expires time.Time) error
	// AbandonIdempotent releases a claim whose request failed, so it can be retried.
	AbandonIdempotent(ctx context.Context, scope string) error
}
