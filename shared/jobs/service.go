package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/projects"
)

// Service applies job rules on top of a Store.
type Service struct {
	Store    Store
	Accounts accounts.Store
	// Projects reads the Batchly projects jobs name (ProjectId).
	Projects ProjectStore
	// Groups reads customers' Auto Scaling groups (nil skips the check).
	Groups cloud.AutoScaling
	Now    func() time.Time
	NewID  func() string
}

// ProjectStore reads projects (projects.Store has it).
type ProjectStore interface {
	GetProject(ctx context.Context, id string) (projects.Project, error)
}

// NewService returns a Service with the real clock and ids.
func NewService(store Store, accs accounts.Store, projs ProjectStore, groups cloud.AutoScaling) *Service {
	return &Service{Store: store, Accounts: accs, Projects: projs, Groups: groups, Now: time.Now, NewID: identity.RandomHex8}
}

// Input is what a caller may set on a job; nil fields are left unchanged
// on update.
type Input struct {
	Name           *string
	AccountID      *string
	BaseRegion     *string
	ProjectID      *string
	SLA            *string
	InputLocation  *string
	OutputLocation *string

	// ASG jobs.
	AutoScalingGroupName       *string
	MinOnDemandInstanceCount   *int
	ReinstateOnStop            *bool
	ReplaceUnhealthyInstances  *bool
	RestrictToSelectedInstance *bool
	StandBy                    *bool
	SuspendScalingOperations   *bool

	// AMI jobs.
	AmiID                    *string
	InstanceType             *string
	KeyPair                  *string
	LaunchScript             *string
	InstanceProfileArn       *string
	VpcID                    *string
	SubnetIDs                *[]string
	SecurityGroupIDs         *[]string
	ElasticLoadBalancerNames *[]string
	TargetGroupARNs          *[]string
	AssociatePublicIPAddress *bool
	DesiredInstanceCount     *int
	MinInstanceCount         *int
	MaxInstanceCount         *int
	HealthCheckGracePeriod   *int
	ScalingPolicies          *[]ScalingPolicy
}

// visibleAccount returns the account if the caller may use it.
func (s *Service) visibleAccount(ctx context.Context, p identity.Principal, id string) (accounts.Account, error) {
	a, err := s.Accounts.GetAccount(ctx, id)
	if errs.Is(err, errs.NotFound) || (err == nil && !p.Sees(a.Teams)) {
		return accounts.Account{}, errs.Field("AccountId", fmt.Sprintf("Account %q does not exist.", id))
	}
	return a, err
}

// checkProject refuses a project the caller does not see, as if it did
// not exist: a job must not attach to (and so pin) another team's project.
func (s *Service) checkProject(ctx context.Context, id *string) error {
	if id == nil || *id == "" {
		return nil
	}
	p, err := identity.Caller(ctx)
	if err != nil {
		return err
	}
	pr, err := s.Projects.GetProject(ctx, *id)
	if errs.Is(err, errs.NotFound) || (err == nil && !p.Sees(pr.Teams)) {
		return errs.Field("ProjectId", fmt.Sprintf("Project %q does not exist.", *id))
	}
	return err
}

// Create creates a job of app (AppASG or AppAMI).
func (s *Service) Create(ctx context.Context, app string, in Input) (Job, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return Job{}, err
	}
	rules, ok := apps[app]
	if !ok {
		return Job{}, fmt.Errorf("create job: unknown app %q", app)
	}
	if err := required(app, in); err != nil {
		return Job{}, err
	}
	a, err := s.visibleAccount(ctx, p, *in.AccountID)
	if err != nil {
		return Job{}, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	j := Job{ID: "W-" + s.NewID(), App: app, AccountID: a.ID, Teams: a.Teams, BaseRegion: a.BaseRegion, CreatedAt: now, UpdatedAt: now}
	rules.newConfig(&j, in)
	if err := s.apply(ctx, &j, in, &a); err != nil {
		return Job{}, err
	}
	if err := s.Store.CreateJob(ctx, j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// apply validates in and sets it on j, then checks that an ASG job's group
// exists; acc is the job's account when the caller has it already.
func (s *Service) apply(ctx context.Context, j *Job, in Input, acc *accounts.Account) error {
	if err := validate(j, in); err != nil {
		return err
	}
	if err := s.checkProject(ctx, in.ProjectID); err != nil {
		return err
	}
	if j.ASG == nil || s.Groups == nil || in.AutoScalingGroupName == nil {
		return nil
	}
	if acc == nil {
		a, err := s.Accounts.GetAccount(ctx, j.AccountID)
		if err != nil {
			return err
		}
		acc = &a
	}
	name := j.ASG.AutoScalingGroupName
	if _, err := s.Groups.GetGroup(ctx, acc.Target(j.BaseRegion), name); err != nil {
		switch {
		case errors.Is(err, cloud.ErrNotFound):
			return errs.Field("AutoScalingGroupName", fmt.Sprintf("No Auto Scaling group %q in %s.", name, j.BaseRegion))
		case errors.Is(err, cloud.ErrAccessDenied):
			return errs.Field("AccountId", "batchplane cannot assume the account's role; check its trust policy and ExternalId.")
		}
		return fmt.Errorf("check group %s: %w", name, err)
	}
	return nil
}

// Get returns a job of app the caller may see.
func (s *Service) Get(ctx context.Context, app, id string) (Job, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return Job{}, err
	}
	j, err := s.Store.GetJob(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if (app != "" && j.App != app) || !p.Sees(j.Teams) {
		return Job{}, errs.NotFoundf("Job %q not found.", id)
	}
	return j, nil
}

// List lists the jobs the caller may see.
func (s *Service) List(ctx context.Context, pg identity.Page) ([]Job, string, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListJobs(ctx, p.Scope(), pg)
}

// Update changes a job's configuration.
func (s *Service) Update(ctx context.Context, app, id string, in Input) (Job, error) {
	j, err := s.Get(ctx, app, id)
	if err != nil {
		return Job{}, err
	}
	if in.AccountID != nil && *in.AccountID != j.AccountID {
		return Job{}, errs.Field("AccountId", "A job cannot move to another account; create a new job.")
	}
	if err := s.apply(ctx, &j, in, nil); err != nil {
		return Job{}, err
	}
	j.UpdatedAt = s.Now().UTC().Truncate(time.Millisecond)
	if err := s.Store.UpdateJob(ctx, j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Delete deletes an idle job.
func (s *Service) Delete(ctx context.Context, app, id string) error {
	j, err := s.Get(ctx, app, id)
	if err != nil {
		return err
	}
	if j.IsExecuting() {
		return errs.E(errs.Conflict, "Job %s is executing (run %s); stop it before deleting it.", j.ID, j.ActiveRunID)
	}
	return s.Store.DeleteJob(ctx, j)
}
