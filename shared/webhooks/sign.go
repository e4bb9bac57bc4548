package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (lower case, as the specification writes
// them; HTTP header names are case-insensitive).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix marks a symmetric Standard Webhooks secret.
const SecretPrefix = "whsec_"

// secretBytes is the key length: the specification asks for at least 24
// bytes (192 bits); 32 matches HMAC-SHA256's block-size guidance.
const secretBytes = 32

// NewSecret returns whsec_ and the base64 of secretBytes random bytes from r.
func NewSecret(r io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// secretKey returns the HMAC key of a whsec_ secret: the base64-decoded
// text after the prefix.
func secretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New("webhook secret: missing whsec_ prefix")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("webhook secret: key of %d bytes, want 24 to 64", len(key))
	}
	return key, nil
}

// Sign returns the webhook-signature value of a message:
// v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed by the secret.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	if strings.Contains(msgID, ".") {
		// The specification: the id must not contain the delimiter.
		return "", errors.New("webhook message id must not contain '.'")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// SignedHeaders returns the three Standard Webhooks headers of one attempt:
// the message id stays the same across retries, the timestamp is the
// attempt's.
func SignedHeaders(secret, msgID string, ts time.Time, body []byte) (map[string]string, error) {
	sig, err := Sign(secret, msgID, ts, body)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		HeaderID:        msgID,
		HeaderTimestamp: strconv.FormatInt(ts.Unix(), 10),
		HeaderSignature: sig,
	}, nil
}

// NewMessageID returns msg_ and 32 random hex digits (no '.', as the
// signature scheme requires).
func NewMessageID(r io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("webhook message id: %w", err)
	}
	return "msg_" + hex.EncodeToString(b), nil
}

// randReader is crypto/rand, the default of Service.Rand.
var randReader io.Reader = rand.Reader
