// Command batchplane runs batchplane on a laptop: `batchplane local` starts
// DynamoDB Local and serves the whole API (what `make run` does).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/app"
	"github.com/batchplane/batchplane/shared/local"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/store/dynamolocal"
)

const usage = `usage:
  batchplane local [-state .local] [-cache .cache] [-addr 127.0.0.1:$PORT]
  batchplane bootstrap -table TABLE -kms-key KEY [-admin EMAIL]
      creates the Organization team, an Administrator and its key pair in a
      deployed stack's table (AWS credentials from the environment); prints
      the key once and does nothing if the organization exists
  batchplane with-dynamodb [-cache .cache] -- COMMAND [ARGS...]
      runs COMMAND with a fresh in-memory DynamoDB Local, its endpoint in
      BP_DYNAMODB_ENDPOINT (make test and make bench use it)`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "local":
		runLocal()
	case "bootstrap":
		os.Exit(bootstrap(os.Args[2:]))
	case "with-dynamodb":
		os.Exit(withDynamo(os.Args[2:]))
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}

func runLocal() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	fs := flag.NewFlagSet("local", flag.ExitOnError)
	state := fs.String("state", ".local", "folder for data, keys and credentials")
	cache := fs.String("cache", ".cache", "folder for the unpacked DynamoDB Local")
	addr := fs.String("addr", "127.0.0.1:"+port, "address to serve the API on")
	_ = fs.Parse(os.Args[2:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := local.Run(ctx, local.Options{StateDir: *state, CacheDir: *cache, Addr: *addr, Out: os.Stdout}); err != nil {
		fmt.Fprintln(os.Stderr, "batchplane:", err)
		os.Exit(1)
	}
}

// withDynamo runs a command beside a DynamoDB Local that lives exactly as
// long as the command.
func withDynamo(args []string) int {
	fs := flag.NewFlagSet("with-dynamodb", flag.ExitOnError)
	cache := fs.String("cache", ".cache", "folder for the unpacked DynamoDB Local")
	_ = fs.Parse(args)
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	ctx := context.Background()
	dir, err := dynamolocal.Ensure(ctx, *cache)
	if err != nil {
		fmt.Fprintln(os.Stderr, "batchplane:", err)
		return 1
	}
	p, err := dynamolocal.Start(ctx, dir, dynamolocal.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "batchplane:", err)
		return 1
	}
	defer p.Stop()
	cmd := exec.Command(rest[0], rest[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "BP_DYNAMODB_ENDPOINT="+p.Endpoint)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "batchplane:", err)
		return 1
	}
	go func() {
		for s := range sig {
			_ = cmd.Process.Signal(s)
		}
	}()
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "batchplane:", err)
		return 1
	}
	return 0
}

// bootstrap creates the first Administrator of a deployed stack.
func bootstrap(args []string) int {
	fs := flag.NewFlagSet("bootstrap", flag.ExitOnError)
	table := fs.String("table", "", "the stack's table name (stack output TableName)")
	key := fs.String("kms-key", "", "the stack's secrets key id (stack output SecretsKeyId)")
	admin := fs.String("admin", "admin@example.com", "the Administrator's user name (an e-mail)")
	_ = fs.Parse(args)
	if *table == "" || *key == "" {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "batchplane:", err)
		return 1
	}
	svc, err := app.Build(ctx, app.Config{DB: dynamodb.NewFromConfig(cfg), Table: *table, Region: cfg.Region,
		Sealer: &secrets.KMS{Client: kms.NewFromConfig(cfg), KeyID: *key}, Routes: api.All()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "batchplane:", err)
		return 1
	}
	nk, created, err := svc.Identity.Bootstrap(ctx, *admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "batchplane:", err)
		return 1
	}
	if !created {
		fmt.Println("The organization is already bootstrapped; nothing done.")
		return 0
	}
	fmt.Printf("Administrator %s — this key pair is shown once:\n  AccessKey: %s\n  SecretKey: %s\n", *admin, nk.AccessKey, nk.SecretKey)
	return 0
}
