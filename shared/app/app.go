package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/jobs"
	"github.com/batchplane/batchplane/shared/projects"
	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/runs"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/sigv4"
	"github.com/batchplane/batchplane/shared/store"
	"github.com/batchplane/batchplane/shared/workflow"
)

// Config is what building the service needs.
type Config struct {
	DB     *dynamodb.Client
	Table  string
	Region string // the region SigV4 signatures are scoped to
	Sealer identity.Sealer
	// Function limits the API to one Lambda function's routes; "" serves all.
	Function string
	// Local enables the local-only routes (make run).
	Local bool
	// Cloud reaches customers' AWS accounts (or the local cloud).
	Cloud cloud.Cloud
	// Catalog prices instance hours.
	Catalog runs.Catalog
	// Executions starts and resumes run workflows.
	Executions runs.Executions
	// LocalCloud injects faults into the local cloud (make run only).
	LocalCloud api.LocalCloud
}

// Service is the built service: the store, the domain services, the run
// workflow and the API.
type Service struct {
	Store    *store.Store
	Identity *identity.Service
	Accounts *accounts.Service
	Runs     *runs.Service
	Workflow *workflow.Workflow
	API      *api.Server
}

// Build wires store → services → API.
func Build(ctx context.Context, c Config) (*Service, error) {
	if c.DB == nil || c.Table == "" || c.Sealer == nil || c.Region == "" {
		return nil, errors.New("app: DB, Table, Region and Sealer are required")
	}
	st := store.New(c.DB, c.Table, store.Tokens{})
	// The token key is read (and opened) on first use, not at start-up.
	st.Tokens = store.NewLazyTokens(func() ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return st.TokenKey(ctx, c.Sealer)
	})
	ids := identity.NewService(st, c.Sealer)
	accs := accounts.NewService(st, st)
	var groups cloud.AutoScaling
	if c.Cloud.AutoScaling != nil {
		groups = c.Cloud.AutoScaling
	}
	js := jobs.NewService(st, st, groups)
	rs := &runs.Service{Store: st, Jobs: st, Accounts: st, Cloud: c.Cloud, Catalog: c.Catalog,
		Executions: c.Executions, Now: time.Now, NewID: identity.RandomHex8}
	wf := &workflow.Workflow{Runs: st, Jobs: st, Accounts: st, Cloud: c.Cloud, Catalog: c.Catalog,
		Executions: c.Executions, Now: time.Now}
	srv, err := api.New(api.Deps{
		Identity:    ids,
		Accounts:    accs,
		SigV4:       sigv4.Verifier{Region: c.Region, Service: "execute-api"},
		Function:    c.Function,
		Local:       c.Local,
		Idempotency: st,
		Runs:        rs,
		Jobs:        js,
		Projects:    projects.NewService(st, st),
		LocalCloud:  c.LocalCloud,
	})
	if err != nil {
		return nil, err
	}
	return &Service{Store: st, Identity: ids, Accounts: accs, Runs: rs, Workflow: wf, API: srv}, nil
}

// EnvSealerKeyFile, when set, seals secrets with a local AES-256-GCM key
// file instead of KMS: for `sam local invoke` and the cold-start bench,
// where there is no KMS. Never set it in a deployed stack.
const EnvSealerKeyFile = "BP_SEALER_KEY_FILE"

// FromEnv builds the service inside a Lambda: table, KMS key and region from
// the environment (routes.Env*), AWS config loaded once.
func FromEnv(ctx context.Context, function string) (*Service, error) {
	return FromEnvWith(ctx, function, nil)
}

// FromEnvWith is FromEnv with more configuration (package cloudapp adds
// customers' AWS and Step Functions).
func FromEnvWith(ctx context.Context, function string, more func(*Config)) (*Service, error) {
	table, keyID, region := os.Getenv(routes.EnvTable), os.Getenv(routes.EnvKMSKey), os.Getenv(routes.EnvRegion)
	keyFile := os.Getenv(EnvSealerKeyFile)
	if table == "" || (keyID == "" && keyFile == "") {
		return nil, fmt.Errorf("app: %s and %s must be set", routes.EnvTable, routes.EnvKMSKey)
	}
	cfg, err := LoadAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = cfg.Region
	}
	var sealer identity.Sealer = &secrets.KMS{Client: kms.NewFromConfig(cfg), KeyID: keyID}
	if keyFile != "" {
		key, err := secrets.LoadOrCreateKeyFile(keyFile)
		if err != nil {
			return nil, err
		}
		if sealer, err = secrets.NewAESGCM(key); err != nil {
			return nil, err
		}
	}
	c := Config{
		DB:       dynamodb.NewFromConfig(cfg),
		Table:    table,
		Region:   region,
		Sealer:   sealer,
		Function: function,
	}
	if more != nil {
		more(&c)
	}
	return Build(ctx, c)
}

// StartLambda is the whole of an HTTP function's main: build once, then
// serve API Gateway HTTP API (payload 2.0) events through the proxy adapter.
// function names the routes it serves (routes.Fn*); routes.DefaultFunction
// serves them all.
func StartLambda(function string) {
	StartLambdaWith(function, FromEnv)
}

// StartLambdaWith is StartLambda with another way to build the service.
func StartLambdaWith(function string, build func(ctx context.Context, function string) (*Service, error)) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	if function == routes.DefaultFunction {
		function = ""
	}
	svc, err := build(context.Background(), function)
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(svc.API).ProxyWithContext)
}
