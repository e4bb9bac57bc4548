package webhooks

import (
	"bytes"
	"encoding/base64"
	"go/build"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestSignSpecVector: the signature of the Standard Webhooks reference
// libraries' own test vector (libraries/go/webhook_test.go, TestWebhookSign).
func TestSignSpecVector(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestSignedHeadersVerifyWithPublishedLibrary: what we sign, the
// specification's published Go library verifies; a changed body, id,
// timestamp or secret it refuses.
func TestSignedHeadersVerifyWithPublishedLibrary(t *testing.T) {
	secret, err := NewSecret(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSecret(bytes.NewReader(bytes.Repeat([]byte{8}, 64)))
	body := []byte(`{"type":"run.finished","timestamp":"2026-12-01T08:00:00Z","data":{"id":"R-1"}}`)
	now := time.Now()
	h, err := SignedHeaders(secret, "msg_0123456789abcdef", now, body)
	if err != nil {
		t.Fatal(err)
	}
	header := func(mod func(http.Header)) http.Header {
		hh := http.Header{}
		for k, v := range h {
			hh.Set(k, v)
		}
		if mod != nil {
			mod(hh)
		}
		return hh
	}
	tests := []struct {
		name   string
		secret string
		body   []byte
		header http.Header
		ok     bool
	}{
		{"as sent", secret, body, header(nil), true},
		{"body changed", secret, append([]byte(nil), append(body, ' ')...), header(nil), false},
		{"id changed", secret, body, header(func(h http.Header) { h.Set(HeaderID, "msg_other") }), false},
		{"timestamp changed", secret, body, header(func(h http.Header) { h.Set(HeaderTimestamp, "1614265331") }), false},
		{"other secret", other, body, header(nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh, err := standardwebhooks.NewWebhook(tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			err = wh.Verify(tt.body, tt.header)
			if (err == nil) != tt.ok {
				t.Fatalf("verify: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestNewSecret: whsec_ and the base64 of 32 random bytes.
func TestNewSecret(t *testing.T) {
	s, err := NewSecret(randReader)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		t.Fatalf("secret %q lacks %s", s, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) != 32 {
		t.Fatalf("key %d bytes, %v; want 32", len(key), err)
	}
	s2, _ := NewSecret(randReader)
	if s2 == s {
		t.Fatal("two secrets are equal")
	}
	if _, err := Sign("nope", "msg_1", time.Now(), nil); err == nil {
		t.Fatal("a secret without whsec_ signed")
	}
	if _, err := Sign(s, "msg.1", time.Now(), nil); err == nil {
		t.Fatal("a message id with '.' signed")
	}
}

// The package is a domain package: no HTTP (net/http belongs to
// deliver), no AWS SDK.
func TestImportsNoHTTPNoAWS(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "net/http") || strings.Contains(imp, "aws") {
			t.Errorf("webhooks imports %s", imp)
		}
	}
}
