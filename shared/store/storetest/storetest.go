// Package storetest gives tests a real DynamoDB: DynamoDB Local, started once
// per test binary (or the one named by BP_DYNAMODB_ENDPOINT, as `make test`
// does), with a fresh table per test. There is no fake DynamoDB.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store"
	"github.com/batchplane/batchplane/shared/store/dynamolocal"
)

// EnvEndpoint names a running DynamoDB Local to use instead of starting one.
const EnvEndpoint = "BP_DYNAMODB_ENDPOINT"

var (
	once     sync.Once
	endpoint string
	startErr error
)

// RepoRoot returns the repository root (the folder with batchplane's go.mod).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/batchplane/batchplane\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("storetest: repository root not found above %s", dir)
		}
		dir = parent
	}
}

// Endpoint returns the DynamoDB Local endpoint, starting it on first use.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		if e := os.Getenv(EnvEndpoint); e != "" {
			endpoint = e
			return
		}
		root, err := RepoRoot()
		if err != nil {
			startErr = err
			return
		}
		ctx := context.Background()
		dir, err := dynamolocal.Ensure(ctx, filepath.Join(root, ".cache"))
		if err != nil {
			startErr = err
			return
		}
		p, err := dynamolocal.Start(ctx, dir, dynamolocal.Options{})
		if err != nil {
			startErr = err
			return
		}
		endpoint = p.Endpoint
	})
	if startErr != nil {
		tb.Fatalf("DynamoDB Local: %v", startErr)
	}
	return endpoint
}

// Client returns a client for DynamoDB Local.
func Client(tb testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	tb.Helper()
	return dynamolocal.Client(Endpoint(tb), optFns...)
}

// NewTable creates a fresh, uniquely named table and returns its name.
func NewTable(tb testing.TB, db *dynamodb.Client) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("t-%s-%x", strings.ToLower(sanitize(tb.Name())), b)
	if len(name) > 200 {
		name = name[:200]
	}
	if err := store.CreateTable(context.Background(), db, name); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
	})
	return name
}

func sanitize(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
		if sb.Len() > 60 {
			break
		}
	}
	return sb.String()
}

// New returns a Store over a fresh table.
func New(tb testing.TB) *store.Store {
	tb.Helper()
	db := Client(tb)
	return store.New(db, NewTable(tb, db), store.NewTokens([]byte("0123456789abcdef0123456789abcdef")))
}

// Admin bootstraps the first Administrator in st and returns the identity
// service and a context acting as that Administrator (nothing is sent over
// HTTP: the domain services take the caller from the context).
func Admin(tb testing.TB, st *store.Store) (*identity.Service, context.Context) {
	tb.Helper()
	sealer, err := secrets.NewAESGCM(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	ids := identity.NewService(st, sealer)
	ctx := context.Background()
	nk, _, err := ids.Bootstrap(ctx, "admin@example.com")
	if err != nil {
		tb.Fatalf("bootstrap: %v", err)
	}
	u, err := st.GetUser(ctx, nk.UserID)
	if err != nil {
		tb.Fatal(err)
	}
	return ids, identity.WithPrincipal(ctx, identity.Principal{User: u})
}
