package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/batchplane/batchplane/shared/errs"
)

// Tokens turns DynamoDB's LastEvaluatedKey into opaque ContinuationTokens
// and back. A token is MACed together with the listing it came from (its
// scope), so an edited token, or one from another listing, is rejected
// instead of starting a query somewhere else.
type Tokens struct {
	key []byte
}

// NewTokens returns Tokens that sign with key (at least 32 bytes).
func NewTokens(key []byte) Tokens { return Tokens{key: append([]byte(nil), key...)} }

func (t Tokens) mac(scope string, payload []byte) []byte {
	m := hmac.New(sha256.New, t.key)
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
