package jobs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/regions"
)

// Service applies job rules on top of a Store.
type Service struct {
	Store    Store
	Accounts accounts.Store
	// Groups reads customers' Auto Scaling groups (nil skips the check).
	Groups cloud.AutoScaling
	Now    func() time.Time
	NewID  func() string
}

// NewService returns a Service with the real clock and ids.
func NewService(store Store, accs accounts.Store, groups cloud.AutoScaling) *Service {
	return &Service{Store: store, Accounts: accs, Groups: groups, Now: time.Now, NewID: identity.RandomHex8}
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

var (
	amiRE    = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	subnetRE = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	sgRE     = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	vpcRE    = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	typeRE   = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

// visibleAccount returns the account if the caller may use it.
func (s *Service) visibleAccount(ctx context.Context, p identity.Principal, id string) (accounts.Account, error) {
	a, err := s.Accounts.GetAccount(ctx, id)
	if errs.Is(err, errs.NotFound) || (err == nil && !p.Sees(a.Teams)) {
		return accounts.Account{}, errs.Field("AccountId", fmt.Sprintf("Account %q does not exist.", id))
	}
	return a, err
}

// Create creates a job of app (AppASG or AppAMI).
func (s *Service) Create(ctx context.Context, app string, in Input) (Job, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return Job{}, err
	}
	f := errs.Fields{}
	if in.AccountID == nil || *in.AccountID == "" {
		f.Add("AccountId", "AccountId is required.")
	}
	if in.Name == nil {
		f.Add("Name", "Name is required.")
	}
	if app == AppASG && in.AutoScalingGroupName == nil {
		f.Add("AutoScalingGroupName", "AutoScalingGroupName is required.")
	}
	if app == AppAMI {
		if in.AmiID == nil {
			f.Add("AmiId", "AmiId is required.")
		}
		if in.InstanceType == nil {
			f.Add("InstanceType", "InstanceType is required.")
		}
	}
	if err := f.Err(); err != nil {
		return Job{}, err
	}
	a, err := s.visibleAccount(ctx, p, *in.AccountID)
	if err != nil {
		return Job{}, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	j := Job{ID: "W-" + s.NewID(), App: app, AccountID: a.ID, Teams: a.Teams, BaseRegion: a.BaseRegion, CreatedAt: now, UpdatedAt: now}
	switch app {
	case AppASG:
		j.ASG = &ASGConfig{}
	case AppAMI:
		j.AMI = &AMIConfig{DesiredInstanceCount: 1}
		if in.MinInstanceCount == nil {
			j.AMI.MinInstanceCount = -1 // default: = desired
		}
		if in.MaxInstanceCount == nil {
			j.AMI.MaxInstanceCount = -1
		}
	}
	if err := s.apply(ctx, &j, in, &a); err != nil {
		return Job{}, err
	}
	if err := s.Store.CreateJob(ctx, j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// apply validates in and sets it on j; acc is the job's account when the
// caller has it already.
func (s *Service) apply(ctx context.Context, j *Job, in Input, acc *accounts.Account) error {
	f := errs.Fields{}
	set := func(dst *string, v *string, field string, maxLen int, required bool) {
		if v == nil {
			return
		}
		t := strings.TrimSpace(*v)
		if (required && t == "") || utf8.RuneCountInString(t) > maxLen {
			f.Add(field, fmt.Sprintf("%s must be %d to %d characters.", field, map[bool]int{true: 1}[required], maxLen))
			return
		}
		*dst = t
	}
	set(&j.Name, in.Name, "Name", 128, true)
	set(&j.SLA, in.SLA, "SLA", 64, false)
	set(&j.InputLocation, in.InputLocation, "InputLocation", 1024, false)
	set(&j.OutputLocation, in.OutputLocation, "OutputLocation", 1024, false)
	if in.ProjectID != nil {
		j.ProjectID = *in.ProjectID
	}
	if in.BaseRegion != nil {
		if !regions.Valid(*in.BaseRegion) {
			f.Add("BaseRegion", fmt.Sprintf("%q is not a known region.", *in.BaseRegion))
		} else {
			j.BaseRegion = *in.BaseRegion
		}
	}
	nonNeg := func(dst *int, v *int, field string) {
		if v == nil {
			return
		}
		if *v < 0 || *v > 10000 {
			f.Add(field, field+" must be from 0 to 10000.")
			return
		}
		*dst = *v
	}
	flag := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	if c := j.ASG; c != nil {
		set(&c.AutoScalingGroupName, in.AutoScalingGroupName, "AutoScalingGroupName", 255, true)
		nonNeg(&c.MinOnDemandInstanceCount, in.MinOnDemandInstanceCount, "MinOnDemandInstanceCount")
		flag(&c.ReinstateOnStop, in.ReinstateOnStop)
		flag(&c.ReplaceUnhealthyInstances, in.ReplaceUnhealthyInstances)
		flag(&c.RestrictToSelectedInstance, in.RestrictToSelectedInstance)
		flag(&c.StandBy, in.StandBy)
		flag(&c.SuspendScalingOperations, in.SuspendScalingOperations)
		if amiOnly(in) {
			f.Add("AmiId", "AMI parameters do not apply to an Auto Scaling Group job.")
		}
	}
	if c := j.AMI; c != nil {
		if in.AutoScalingGroupName != nil || in.StandBy != nil || in.SuspendScalingOperations != nil || in.ReinstateOnStop != nil {
			f.Add("AutoScalingGroupName", "Auto Scaling Group parameters do not apply to an AMI job.")
		}
		if in.AmiID != nil {
			if !amiRE.MatchString(*in.AmiID) {
				f.Add("AmiId", "AmiId must look like ami-0123456789abcdef0.")
			} else {
				c.AmiID = *in.AmiID
			}
		}
		if in.InstanceType != nil {
			if !typeRE.MatchString(*in.InstanceType) {
				f.Add("InstanceType", "InstanceType must look like t3.micro.")
			} else {
				c.InstanceType = *in.InstanceType
			}
		}
		set(&c.KeyPair, in.KeyPair, "KeyPair", 255, false)
		if in.LaunchScript != nil {
			if len(*in.LaunchScript) > 16<<10 {
				f.Add("LaunchScript", "LaunchScript must be at most 16 KiB.")
			} else {
				c.LaunchScript = *in.LaunchScript
			}
		}
		set(&c.InstanceProfileArn, in.InstanceProfileArn, "InstanceProfileArn", 2048, false)
		if in.VpcID != nil {
			if *in.VpcID != "" && !vpcRE.MatchString(*in.VpcID) {
				f.Add("VpcId", "VpcId must look like vpc-0123456789abcdef0.")
			} else {
				c.VpcID = *in.VpcID
			}
		}
		list := func(dst *[]string, v *[]string, field string, re *regexp.Regexp) {
			if v == nil {
				return
			}
			for _, x := range *v {
				if re != nil && !re.MatchString(x) {
					f.Add(field, fmt.Sprintf("%q is not a valid %s entry.", x, field))
					return
				}
			}
			*dst = *v
		}
		list(&c.SubnetIDs, in.SubnetIDs, "SubnetIds", subnetRE)
		list(&c.SecurityGroupIDs, in.SecurityGroupIDs, "SecurityGroupIds", sgRE)
		list(&c.ElasticLoadBalancerNames, in.ElasticLoadBalancerNames, "ElasticLoadBalancerNames", nil)
		list(&c.TargetGroupARNs, in.TargetGroupARNs, "TargetGroupARNs", nil)
		if len(c.ElasticLoadBalancerNames) > 0 && len(c.TargetGroupARNs) > 0 {
			f.Add("TargetGroupARNs", "Elastic load balancer and Application load balancer can not be used together: send ElasticLoadBalancerNames or TargetGroupARNs, not both.")
		}
		flag(&c.AssociatePublicIPAddress, in.AssociatePublicIPAddress)
		flag(&c.ReplaceUnhealthyInstances, in.ReplaceUnhealthyInstances)
		flag(&c.RestrictToSelectedInstance, in.RestrictToSelectedInstance)
		nonNeg(&c.DesiredInstanceCount, in.DesiredInstanceCount, "DesiredInstanceCount")
		nonNeg(&c.MinInstanceCount, in.MinInstanceCount, "MinInstanceCount")
		nonNeg(&c.MaxInstanceCount, in.MaxInstanceCount, "MaxInstanceCount")
		nonNeg(&c.MinOnDemandInstanceCount, in.MinOnDemandInstanceCount, "MinOnDemandInstanceCount")
		nonNeg(&c.HealthCheckGracePeriod, in.HealthCheckGracePeriod, "HealthCheckGracePeriod")
		if c.MinInstanceCount < 0 {
			c.MinInstanceCount = c.DesiredInstanceCount
		}
		if c.MaxInstanceCount < 0 {
			c.MaxInstanceCount = c.DesiredInstanceCount
		}
		if !(c.MinInstanceCount <= c.DesiredInstanceCount && c.DesiredInstanceCount <= c.MaxInstanceCount) {
			f.Add("DesiredInstanceCount", "MinInstanceCount ≤ DesiredInstanceCount ≤ MaxInstanceCount must hold.")
		}
		if c.MinOnDemandInstanceCount > c.DesiredInstanceCount {
			f.Add("MinOnDemandInstanceCount", "MinOnDemandInstanceCount must not exceed DesiredInstanceCount.")
		}
		if in.ScalingPolicies != nil {
			for i, p := range *in.ScalingPolicies {
				field := fmt.Sprintf("ScalingPolicies[%d]", i)
				switch {
				case p.ScaleType != ScaleUp && p.ScaleType != ScaleDown:
					f.Add(field, "ScaleType must be ScaleUp or ScaleDown.")
				case p.MetricName != "CPUUtilization":
					f.Add(field, "MetricName must be CPUUtilization.")
				case p.Namespace != "" && p.Namespace != "AWS/EC2":
					f.Add(field, "Namespace must be AWS/EC2.")
				case p.MetricStatisticType != "" && p.MetricStatisticType != "Average":
					f.Add(field, "MetricStatisticType must be Average.")
				case p.Period < 60 || p.Period%60 != 0:
					f.Add(field, "Period must be a positive multiple of 60 seconds.")
				case p.EvaluationPeriods < 1 || p.EvaluationPeriods > 100:
					f.Add(field, "EvaluationPeriods must be from 1 to 100.")
				case p.ScaleFactor <= 0:
					f.Add(field, "ScaleFactor must be positive.")
				case p.ScaleAt < 0 || p.ScaleAt > 100:
					f.Add(field, "ScaleAt must be a CPU percentage from 0 to 100.")
				}
			}
			c.ScalingPolicies = *in.ScalingPolicies
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if j.ASG != nil && s.Groups != nil && in.AutoScalingGroupName != nil {
		if acc == nil {
			a, err := s.Accounts.GetAccount(ctx, j.AccountID)
			if err != nil {
				return err
			}
			acc = &a
		}
		a := *acc
		t := a.Target(j.BaseRegion)
		if _, err := s.Groups.GetGroup(ctx, t, j.ASG.AutoScalingGroupName); err != nil {
			switch {
			case errors.Is(err, cloud.ErrNotFound):
				return errs.Field("AutoScalingGroupName", fmt.Sprintf("No Auto Scaling group %q in %s.", j.ASG.AutoScalingGroupName, j.BaseRegion))
			case errors.Is(err, cloud.ErrAccessDenied):
				return errs.Field("AccountId", "batchplane cannot assume the account's role; check its trust policy and ExternalId.")
			}
			return fmt.Errorf("check group %s: %w", j.ASG.AutoScalingGroupName, err)
		}
	}
	return nil
}

func amiOnly(in Input) bool {
	return in.AmiID != nil || in.InstanceType != nil || in.LaunchScript != nil || in.DesiredInstanceCount != nil ||
		in.ScalingPolicies != nil || in.SubnetIDs != nil || in.TargetGroupARNs != nil || in.ElasticLoadBalancerNames != nil
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

// Groups lists the Auto Scaling groups of an account the caller may see.
func (s *Service) ListGroups(ctx context.Context, accountID, region string) ([]cloud.Group, error) {
	t, err := s.target(ctx, accountID, region)
	if err != nil {
		return nil, err
	}
	gs, err := s.Groups.ListGroups(ctx, t)
	return gs, cloudErr(err, "")
}

// Group returns one Auto Scaling group of an account.
func (s *Service) Group(ctx context.Context, accountID, region, name string) (cloud.Group, error) {
	t, err := s.target(ctx, accountID, region)
	if err != nil {
		return cloud.Group{}, err
	}
	g, err := s.Groups.GetGroup(ctx, t, name)
	return g, cloudErr(err, name)
}

func (s *Service) target(ctx context.Context, accountID, region string) (cloud.Target, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return cloud.Target{}, err
	}
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err == nil && !p.Sees(a.Teams) {
		err = errs.NotFoundf("Account %q not found.", accountID)
	}
	if err != nil {
		return cloud.Target{}, err
	}
	if region == "" {
		region = a.BaseRegion
	}
	if !regions.Valid(region) {
		return cloud.Target{}, errs.Field("region", fmt.Sprintf("%q is not a known region.", region))
	}
	if s.Groups == nil {
		return cloud.Target{}, errs.E(errs.Unavailable, "No cloud is configured.")
	}
	return a.Target(region), nil
}

func cloudErr(err error, name string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cloud.ErrNotFound):
		return errs.NotFoundf("Auto Scaling group %q not found.", name)
	case errors.Is(err, cloud.ErrAccessDenied):
		return &errs.Error{Code: errs.Invalid, Message: "batchplane cannot assume the account's role; check its trust policy and ExternalId.",
			Fields: map[string]string{"RoleArn": "The role cannot be assumed."}, Err: err}
	}
	return err
}
