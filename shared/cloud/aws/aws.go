// Package aws reaches customers' AWS accounts with aws-sdk-go-v2: every
// call runs as the account's role, assumed with STS and its ExternalId,
// and the assumed credentials are cached per target. The services are
// packages of their own, built on a Provider: ec2 (cloud.Compute),
// autoscaling (cloud.AutoScaling), cloudwatch (cloud.Metrics) and elb
// (cloud.LoadBalancing), so that a function links the SDK clients of the
// services its main names and no other (apps never calls CloudWatch, the
// runs function never calls EC2). Package aws itself implements
// cloud.Roles.
package aws

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/batchplane/batchplane/shared/cloud"
)

var _ cloud.Roles = (*Provider)(nil)

// Configs gives the AWS configuration of a target: what the service
// packages build their clients from (Provider.Config).
type Configs interface {
	Config(t cloud.Target) aws.Config
}

// Provider reaches customers' accounts: one configuration per target, with
// the assumed role's cached credentials.
type Provider struct {
	cfg        aws.Config
	apiOptions []func(*middleware.Stack) error
	creds      func(t cloud.Target) aws.CredentialsProvider

	mu      sync.Mutex
	configs map[cloud.Target]aws.Config
}

// Option configures a Provider.
type Option func(*Provider)

// WithAPIOptions adds SDK middleware to every client (tests capture
// requests with it, without a network).
func WithAPIOptions(opts ...func(*middleware.Stack) error) Option {
	return func(p *Provider) { p.apiOptions = append(p.apiOptions, opts...) }
}

// WithCredentials replaces role assumption (tests).
func WithCredentials(f func(cloud.Target) aws.CredentialsProvider) Option {
	return func(p *Provider) { p.creds = f }
}

// New returns a Provider built once from the function's AWS config.
func New(cfg aws.Config, opts ...Option) *Provider {
	p := &Provider{cfg: cfg, configs: map[cloud.Target]aws.Config{}}
	stsClient := sts.NewFromConfig(cfg)
	p.creds = func(t cloud.Target) aws.CredentialsProvider {
		return aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, t.RoleArn, func(o *stscreds.AssumeRoleOptions) {
			o.ExternalID = aws.String(t.ExternalID)
			o.RoleSessionName = "batchplane-" + t.AccountID
		}))
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Config returns the AWS configuration for a target: its region and the
// assumed role's cached credentials, shared by every client of the target.
func (p *Provider) Config(t cloud.Target) aws.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.configs[t]; ok {
		return c
	}
	cfg := p.cfg.Copy()
	cfg.Region = t.Region
	cfg.Credentials = p.creds(t)
	cfg.APIOptions = append(cfg.APIOptions, p.apiOptions...)
	p.configs[t] = cfg
	return cfg
}

// Check implements cloud.Roles: the role can be assumed.
func (p *Provider) Check(ctx context.Context, t cloud.Target) error {
	_, err := sts.NewFromConfig(p.Config(t)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	return Err("assume role", err)
}

// Clients keeps one client of a service per target, built on first use
// from the target's configuration (a client holds its HTTP connections:
// one per call would not reuse them).
type Clients[C any] struct {
	configs Configs

	mu sync.Mutex
	m  map[cloud.Target]C
}

// NewClients returns the clients of a service on p's configurations.
func NewClients[C any](p Configs) *Clients[C] {
	return &Clients[C]{configs: p, m: map[cloud.Target]C{}}
}

// For returns the client of target t, built with newClient the first
// time. The constructor is named where a client is used, not where
// Clients is made, so that a function whose code never calls the service
// does not link its client. (It takes a plain func(aws.Config) C rather
// than the SDK's variadic NewFromConfig, whose Options type would make
// one instance of For per service.)
func (c *Clients[C]) For(t cloud.Target, newClient func(aws.Config) C) C {
	cfg := c.configs.Config(t) // before c.mu: Config takes the provider's lock
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[t]; ok {
		return cl
	}
	cl := newClient(cfg)
	c.m[t] = cl
	return cl
}

// codes are the error codes of EC2, Auto Scaling and STS that mean
// something to the workflow.
var codes = map[string]error{
	"InsufficientInstanceCapacity": cloud.ErrInsufficientCapacity, "SpotMaxPriceTooLow": cloud.ErrInsufficientCapacity,
	"MaxSpotInstanceCountExceeded": cloud.ErrInsufficientCapacity, "InsufficientCapacity": cloud.ErrInsufficientCapacity,
	"InvalidInstanceID.NotFound": cloud.ErrNotFound, "InvalidInstanceID.Malformed": cloud.ErrNotFound, "ValidationError": cloud.ErrNotFound,
}

// Err classifies an error of EC2, Auto Scaling, CloudWatch or STS by its
// code (see MapErr).
func Err(op string, err error) error { return MapErr(op, err, codes) }

// MapErr classifies an AWS error by its code, never by its message: codes
// maps a service's codes to the cloud errors they mean; denied access is
// cloud.ErrAccessDenied for every service.
func MapErr(op string, err error, codes map[string]error) error {
	if err == nil {
		return nil
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		if c, ok := codes[code]; ok {
			return fmt.Errorf("%s: %w: %w", op, c, err)
		}
		switch code {
		case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
			return fmt.Errorf("%s: %w: %w", op, cloud.ErrAccessDenied, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
