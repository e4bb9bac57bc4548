package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/batchplane/batchplane/shared/cloud"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/regions"
)

// ListGroups lists the Auto Scaling groups of an account the caller may see.
func (s *Service) ListGroups(ctx context.Context, accountID, region string) ([]cloud.Group, error) {
	t, err := s.target(ctx, accountID, region)
	if err != nil {
		return nil, err
	}
	gs, err := s.Groups.ListGroups(ctx, t)
	return gs, cloudErr(err, "")
}

// Group returns one Auto Scaling group of an account the caller may see.
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
