package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/api"
	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/routes"
	"github.com/batchplane/batchplane/shared/runs"
	"github.com/batchplane/batchplane/shared/secrets"
	"github.com/batchplane/batchplane/shared/workflow"
)

// EnvSealerKeyFile, when set, seals secrets with a local AES-256-GCM key
// file instead of KMS: for `sam local invoke` and the cold-start bench,
// where there is no KMS. Never set it in a deployed stack.
const EnvSealerKeyFile = "BP_SEALER_KEY_FILE"

// Option adds a dependency to a Lambda function's service, built from the
// function's AWS configuration. (aws.Config is a parameter, not a field of
// building: a heap value holding it would link its type descriptors into
// every function, a few KB zipped.)
type Option func(cfg aws.Config, b *building) error

// building is what options build on.
type building struct {
	config Config
	// customer is WithCustomerAWS's provider (the cloud services build on it).
	customer any
	// batchEvents is WithBatchEvents' router (the events function's).
	batchEvents EventsRouter
}

// WithCustomerAWS reaches customers' accounts through the provider
// newProvider builds (cloudaws.New): their roles, assumed per target, and
// the role check. The services a function calls come with WithCompute,
// WithAutoScaling, WithMetrics and WithLoadBalancing, built on it, so that
// a function links the SDK clients of those services only.
func WithCustomerAWS[P cloud.Roles, O any](newProvider func(aws.Config, ...O) P) Option {
	return func(cfg aws.Config, e *building) error {
		p := newProvider(cfg)
		e.config.Cloud.Roles, e.customer = p, p
		return nil
	}
}

// WithCompute launches, describes and terminates instances through what
// newCompute builds (ec2.New) on WithCustomerAWS's provider.
func WithCompute[C any, S cloud.Compute](newCompute func(C) S) Option {
	return onCustomer("WithCompute", newCompute, func(c *cloud.Cloud, s S) { c.Compute = s })
}

// WithAutoScaling reads and steers Auto Scaling groups through what
// newGroups builds (autoscaling.New) on WithCustomerAWS's provider.
func WithAutoScaling[C any, S cloud.AutoScaling](newGroups func(C) S) Option {
	return onCustomer("WithAutoScaling", newGroups, func(c *cloud.Cloud, s S) { c.AutoScaling = s })
}

// WithMetrics reads utilisation through what newMetrics builds
// (cloudwatch.New) on WithCustomerAWS's provider.
func WithMetrics[C any, S cloud.Metrics](newMetrics func(C) S) Option {
	return onCustomer("WithMetrics", newMetrics, func(c *cloud.Cloud, s S) { c.Metrics = s })
}

// WithLoadBalancing registers run instances with customers' load balancers
// through what newLB builds (elb.New) on WithCustomerAWS's provider.
func WithLoadBalancing[C any, L cloud.LoadBalancing](newLB func(C) L) Option {
	return onCustomer("WithLoadBalancing", newLB, func(c *cloud.Cloud, l L) { c.LoadBalancing = l })
}

// onCustomer builds one cloud service with newS on WithCustomerAWS's
// provider, which must come first, and sets it with set.
func onCustomer[C, S any](name string, newS func(C) S, set func(*cloud.Cloud, S)) Option {
	return func(_ aws.Config, e *building) error {
		p, ok := e.customer.(C)
		if !ok {
			return fmt.Errorf("app: %s needs WithCustomerAWS before it", name)
		}
		set(&e.config.Cloud, newS(p))
		return nil
	}
}

// WithStepFunctions starts and resumes runs with the state machine named
// by routes.EnvStateMachine, through what newExecutions builds
// (stepfunctions.New).
func WithStepFunctions[E runs.Executions](newExecutions func(cfg aws.Config, stateMachineARN string) E) Option {
	return func(cfg aws.Config, e *building) error {
		ex := newExecutions(cfg, os.Getenv(routes.EnvStateMachine))
		e.config.Executions = func(*workflow.Workflow) runs.Executions { return ex }
		return nil
	}
}

// WithEventBus keeps the customer event bus named by routes.EnvEventBus
// open to exactly the registered AWS accounts, through what newBus builds
// (eventbridge.New): the functions that serve the accounts routes name it.
func WithEventBus[E accounts.EventAccess](newBus func(cfg aws.Config, busName string) E) Option {
	return func(cfg aws.Config, e *building) error {
		name := os.Getenv(routes.EnvEventBus)
		if name == "" {
			return fmt.Errorf("app: %s must be set: registering an account admits its events there", routes.EnvEventBus)
		}
		e.config.EventAccess = newBus(cfg, name)
		return nil
	}
}

// WithCatalog prices instance hours (prices.Catalog{}).
func WithCatalog(c runs.Catalog) Option {
	return func(_ aws.Config, e *building) error {
		e.config.Catalog = c
		return nil
	}
}

// ConfigFromEnv is a Lambda's Config: table, KMS key and region from the
// environment (routes.Env*), AWS config loaded once, then the options in
// order.
func ConfigFromEnv(ctx context.Context, opts ...Option) (Config, error) {
	table, keyID, region := os.Getenv(routes.EnvTable), os.Getenv(routes.EnvKMSKey), os.Getenv(routes.EnvRegion)
	keyFile := os.Getenv(EnvSealerKeyFile)
	if table == "" || (keyID == "" && keyFile == "") {
		return Config{}, fmt.Errorf("app: %s and %s must be set", routes.EnvTable, routes.EnvKMSKey)
	}
	cfg, err := LoadAWSConfig(ctx)
	if err != nil {
		return Config{}, err
	}
	if region == "" {
		region = cfg.Region
	}
	sealer, err := newSealer(cfg, keyID, keyFile)
	if err != nil {
		return Config{}, err
	}
	e := &building{config: Config{DB: dynamodb.NewFromConfig(cfg), Table: table, Region: region,
		Sealer: sealer}}
	for _, o := range opts {
		if err := o(cfg, e); err != nil {
			return Config{}, err
		}
	}
	return e.config, nil
}

// newSealer seals with KMS, or with the key file EnvSealerKeyFile names.
func newSealer(cfg aws.Config, keyID, keyFile string) (identity.Sealer, error) {
	if keyFile == "" {
		return &secrets.KMS{Client: kms.NewFromConfig(cfg), KeyID: keyID}, nil
	}
	key, err := secrets.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	return secrets.NewAESGCM(key)
}

// HTTP is the whole main of an HTTP function: build once, then serve API
// Gateway HTTP API (payload 2.0) events through the proxy adapter. b is
// the function's own binding (api.Apps(), ...; api.All() for the $default
// function): the binary links those routes' handlers only.
func HTTP(b api.Binding, opts ...Option) {
	build := func(ctx context.Context, c Config) (*Service, error) {
		c.Routes = b
		return Build(ctx, c)
	}
	start(opts, build, func(svc *Service) any { return httpadapter.NewV2(svc.API).ProxyWithContext })
}

// Task is the whole main of a run state machine task's function: it runs
// t (workflow.Provision, ...) on each payload.
func Task(t workflow.Task, opts ...Option) {
	start(opts, BuildCore, func(svc *Service) any { return t.Handler(svc.Workflow) })
}

// Events is the main of the events function: EC2's events for runs, AWS
// Batch's for tool batches.
func Events(opts ...Option) {
	var route EventsRouter
	opts = append(opts, func(_ aws.Config, e *building) error {
		route = e.batchEvents
		return nil
	})
	start(opts, BuildCore, func(svc *Service) any { return eventsHandler(route)(svc) })
}

// Sweep is the main of the safety sweep function.
func Sweep(opts ...Option) {
	start(opts, BuildCore, sweepHandler)
}

// start builds the service once (with build: Build for HTTP functions,
// BuildCore for the workflow's) and serves handler(svc).
func start(opts []Option, build func(context.Context, Config) (*Service, error), handler func(*Service) any) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	ctx := context.Background()
	c, err := ConfigFromEnv(ctx, opts...)
	var svc *Service
	if err == nil {
		svc, err = build(ctx, c)
	}
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(handler(svc))
}
