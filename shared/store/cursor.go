package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
)

// Tokens turns DynamoDB's LastEvaluatedKey into opaque ContinuationTokens
// and back. A token is MACed together with the listing it came from (its
// scope), so an edited token, or one from another listing, is rejected
// instead of starting a query somewhere else.
type Tokens struct {
	key  []byte
	lazy *lazyKey
}

type lazyKey struct {
	mu   sync.Mutex
	load func() ([]byte, error)
	key  []byte
}

// NewTokens returns Tokens that sign with key (at least 32 bytes).
func NewTokens(key []byte) Tokens { return Tokens{key: append([]byte(nil), key...)} }

// NewLazyTokens returns Tokens whose key is loaded on first use (so a
// Lambda's cold start does not wait for it); a failed load is retried.
func NewLazyTokens(load func() ([]byte, error)) Tokens { return Tokens{lazy: &lazyKey{load: load}} }

func (t Tokens) signingKey() ([]byte, error) {
	if t.lazy == nil {
		return t.key, nil
	}
	t.lazy.mu.Lock()
	defer t.lazy.mu.Unlock()
	if t.lazy.key == nil {
		k, err := t.lazy.load()
		if err != nil {
			return nil, fmt.Errorf("continuation token key: %w", err)
		}
		t.lazy.key = k
	}
	return t.lazy.key, nil
}

func (t Tokens) mac(scope string, payload []byte) []byte {
	key, err := t.signingKey()
	if err != nil {
		return nil
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:18]
}

// Encode returns the token for a LastEvaluatedKey, or "" when there is none.
func (t Tokens) Encode(scope string, lek map[string]types.AttributeValue) (string, error) {
	if len(lek) == 0 {
		return "", nil
	}
	plain := make(map[string]string, len(lek))
	for k, v := range lek {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", errs.E(errs.Internal, "non-string key attribute %s", k)
		}
		plain[k] = s.Value
	}
	payload, err := json.Marshal(plain)
	if err != nil {
		return "", err
	}
	if _, err := t.signingKey(); err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(t.mac(scope, payload)), nil
}

var errBadToken = errs.Field("ContinuationToken", "The ContinuationToken is invalid or belongs to another listing.")

// Decode returns the ExclusiveStartKey for a token; "" gives nil.
func (t Tokens) Decode(scope, token string) (map[string]types.AttributeValue, error) {
	if token == "" {
		return nil, nil
	}
	if len(token) > 2048 {
		return nil, errBadToken
	}
	if _, err := t.signingKey(); err != nil {
		return nil, err
	}
	p, m, ok := strings.Cut(token, ".")
	if !ok {
		return nil, errBadToken
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, t.mac(scope, payload)) {
		return nil, errBadToken
	}
	var plain map[string]string
	if err := json.Unmarshal(payload, &plain); err != nil || len(plain) == 0 {
		return nil, errBadToken
	}
	out := make(map[string]types.AttributeValue, len(plain))
	for k, v := range plain {
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}
