// Package local is the laptop runtime behind `make run`: DynamoDB Local with
// data kept under .local/, the table, a bootstrap organization, and the very
// same API router served by net/http on one port.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/local/dynamolocal"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store"
)

// Options configure the local runtime.
type Options struct {
	// StateDir keeps DynamoDB data, the sealing key and credentials (.local).
	StateDir string
	// CacheDir keeps the unpacked DynamoDB Local (.cache).
	CacheDir string
	// Addr is where the API listens, e.g. 127.0.0.1:8080.
	Addr string
	// Table is the table name.
	Table string
	// AdminUserName is the bootstrap Administrator's user name.
	AdminUserName string
	// Out receives the human-readable start-up lines.
	Out io.Writer
}

// Credentials is .local/credentials.json.
type Credentials struct {
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
}

// Run starts everything and serves until ctx is cancelled, then stops the
// server and DynamoDB Local cleanly.
func Run(ctx context.Context, o Options) error {
	if o.Table == "" {
		o.Table = "batchplane"
	}
	if o.AdminUserName == "" {
		o.AdminUserName = "admin@batchplane.local"
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return err
	}
	dir, err := dynamolocal.Ensure(ctx, o.CacheDir)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(o.StateDir, "dynamodb.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	ddb, err := dynamolocal.Start(ctx, dir, dynamolocal.Options{DBPath: filepath.Join(o.StateDir, "dynamodb"), Log: logf})
	if err != nil {
		return err
	}
	defer ddb.Stop()

	db := app.LocalDynamo(ddb.Endpoint)
	if err := store.CreateTable(ctx, db, o.Table); err != nil {
		return err
	}
	key, err := secrets.LoadOrCreateKeyFile(filepath.Join(o.StateDir, "master.key"))
	if err != nil {
		return err
	}
	sealer, err := secrets.NewAESGCM(key)
	if err != nil {
		return err
	}
	svc, err := app.Build(ctx, app.Config{DB: db, Table: o.Table, Region: app.LocalRegion, Sealer: sealer})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	endpoint := "http://" + ln.Addr().String()

	nk, created, err := svc.Identity.Bootstrap(ctx, o.AdminUserName)
	if err != nil {
		ln.Close()
		return fmt.Errorf("bootstrap: %w", err)
	}
	credPath := filepath.Join(o.StateDir, "credentials.json")
	creds := Credentials{Endpoint: endpoint, Region: app.LocalRegion}
	if created {
		creds.AccessKey, creds.SecretKey = nk.AccessKey, nk.SecretKey
	} else if b, err := os.ReadFile(credPath); err == nil {
		var old Credentials
		if json.Unmarshal(b, &old) == nil {
			creds.AccessKey, creds.SecretKey = old.AccessKey, old.SecretKey
		}
	}
	if b, err := json.MarshalIndent(creds, "", "  "); err == nil {
		_ = os.WriteFile(credPath, append(b, '\n'), 0o600)
	}

	fmt.Fprintf(o.Out, "batchplane API listening on %s (region %s)\n", endpoint, app.LocalRegion)
	fmt.Fprintf(o.Out, "DynamoDB Local at %s, data in %s\n", ddb.Endpoint, filepath.Join(o.StateDir, "dynamodb"))
	if created {
		fmt.Fprintf(o.Out, "Bootstrap Administrator %s — this key pair is shown once:\n", o.AdminUserName)
		fmt.Fprintf(o.Out, "  AccessKey: %s\n  SecretKey: %s\n", nk.AccessKey, nk.SecretKey)
	}
	fmt.Fprintf(o.Out, "Credentials written to %s\n", credPath)

	hs := &http.Server{Handler: svc.API, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	fmt.Fprintln(o.Out, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		slog.Warn("shutdown", "err", err)
	}
	return nil
}
