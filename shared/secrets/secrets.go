// Package secrets seals API secrets so that the table alone never yields a
// usable one: with AWS KMS in AWS, with an AES-256-GCM key kept in a file
// outside the table on a laptop. Both implement identity.Sealer.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/batchplane/batchplane/shared/identity"
)

var (
	_ identity.Sealer = (*AESGCM)(nil)
	_ identity.Sealer = (*KMS)(nil)
)

// ErrOpen is returned when a sealed value cannot be opened.
var ErrOpen = errors.New("secrets: cannot open sealed value")

// AESGCM seals with a local 256-bit key.
type AESGCM struct {
	aead cipher.AEAD
}

// NewAESGCM returns a sealer over a 32-byte key.
func NewAESGCM(key []byte) (*AESGCM, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &AESGCM{aead: aead}, nil
}

// LoadOrCreateKeyFile reads a 32-byte key from path, creating it (mode 0600)
// with random bytes if it does not exist.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("secrets: key file %s must hold 32 bytes", path)
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// Seal implements identity.Sealer.
func (s *AESGCM) Seal(_ context.Context, plaintext []byte, aad string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, []byte(aad)), nil
}

// Open implements identity.Sealer.
func (s *AESGCM) Open(_ context.Context, sealed []byte, aad string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrOpen
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// KMSAPI is the part of the KMS client KMS uses.
type KMSAPI interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// KMS seals with an AWS KMS key; the context becomes the encryption
// context, so a sealed secret only opens for its own access key.
type KMS struct {
	Client KMSAPI
	KeyID  string
}

// Seal implements identity.Sealer.
func (k *KMS) Seal(ctx context.Context, plaintext []byte, aad string) ([]byte, error) {
	out, err := k.Client.Encrypt(ctx, &kms.EncryptInput{
		KeyId: &k.KeyID, Plaintext: plaintext, EncryptionContext: map[string]string{"batchplane": aad},
	})
	if err != nil {
		return nil, fmt.Errorf("kms encrypt: %w", err)
	}
	return out.CiphertextBlob, nil
}

// Open implements identity.Sealer.
func (k *KMS) Open(ctx context.Context, sealed []byte, aad string) ([]byte, error) {
	out, err := k.Client.Decrypt(ctx, &kms.DecryptInput{
		KeyId: &k.KeyID, CiphertextBlob: sealed, EncryptionContext: map[string]string{"batchplane": aad},
	})
	if err != nil {
		return nil, fmt.Errorf("kms decrypt: %w", err)
	}
	return out.Plaintext, nil
}
