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
// not exist (a job must not attach to, and so pin, another team's
// project), and one of another account: a job and its project hang from
// the same account, so moving the account moves both.
func (s *Service) checkProject(ctx context.Context, j *Job, id *string) error {
	if id == nil || *id == "" {
		return nil
	}
	p, err := identity.Caller(ctx)
	if err != nil {
		return err
	}
	pr, err := s.Projects.GetProject(ctx, *id)
	if errs.Is(err, errs.NotFound) {
		return errs.Field("ProjectId", fmt.Sprintf("Project %q does not exist.", *id))
	}
	if err != nil || pr.AccountID == j.AccountID {
		return err
	}
	// Another account's project: say so only to a caller who sees it.
	ok, err := accounts.Sees(ctx, s.Accounts, p, pr.AccountID)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Field("ProjectId", fmt.Sprintf("Project %q does not exist.", *id))
	}
	return errs.Field("ProjectId", fmt.Sprintf("Project %q is in account %s; a job's project must be in the job's account (%s).", *id, pr.AccountID, j.AccountID))
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
	j := Job{ID: "W-" + s.NewID(), App: app, AccountID: a.ID, BaseRegion: a.BaseRegion, CreatedAt: now, UpdatedAt: now}
	rules.newConfig(&j, in)
	if err := s.apply(ctx, &j, in, &a); err != nil {
		return Job{}, err
	}
	if j.Number, err = s.Store.NextStackNumber(ctx); err != nil {
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
	if err := s.checkProject(ctx, j, in.ProjectID); err != nil {
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

// Get returns a job of app the caller may see: one whose account (read
// now, not copied) shares a team with the caller.
func (s *Service) Get(ctx context.Context, app, id string) (Job, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return Job{}, err
	}
	j, err := s.Store.GetJob(ctx, id)
	if err != nil {
		return Job{}, err
	}
	ok := app == "" || j.App == app
	if ok {
		if ok, err = accounts.Sees(ctx, s.Accounts, p, j.AccountID); err != nil {
			return Job{}, err
		}
	}
	if !ok {
		return Job{}, errs.NotFoundf("Job %q not found.", id)
	}
	return j, nil
}

// GetWithAccount is Get that also returns the job's account (read once:
// the visibility check and the caller's use of it share the read).
func (s *Service) GetWithAccount(ctx context.Context, app, id string) (Job, accounts.Account, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return Job{}, accounts.Account{}, err
	}
	j, err := s.Store.GetJob(ctx, id)
	if err != nil {
		return Job{}, accounts.Account{}, err
	}
	if app != "" && j.App != app {
		return Job{}, accounts.Account{}, errs.NotFoundf("Job %q not found.", id)
	}
	a, err := s.Accounts.GetAccount(ctx, j.AccountID)
	if errs.Is(err, errs.NotFound) || (err == nil && !p.Sees(a.Teams)) {
		return Job{}, accounts.Account{}, errs.NotFoundf("Job %q not found.", id)
	}
	return j, a, err
}

// List lists the jobs the caller may see (one Query, and for a User one
// read of the page's accounts: a page may hold fewer jobs than asked).
func (s *Service) List(ctx context.Context, pg identity.Page) ([]Job, string, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	js, next, err := s.Store.ListJobs(ctx, pg)
	if err != nil {
		return nil, "", err
	}
	js, err = accounts.Keep(ctx, s.Accounts, p, js, func(j Job) string { return j.AccountID })
	return js, next, err
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
	old := j
	if err := s.apply(ctx, &j, in, nil); err != nil {
		return Job{}, err
	}
	j.UpdatedAt = s.Now().UTC().Truncate(time.Millisecond)
	if err := s.Store.UpdateJob(ctx, old, j); err != nil {
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
