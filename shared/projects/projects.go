// Package projects holds Batchly's projects (seed 000): the boundary jobs
// run in — an AWS account, a region of it and optionally a VPC.
package projects

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/errs"
	"github.com/batchplane/batchplane/shared/identity"
	"github.com/batchplane/batchplane/shared/regions"
)

// Project binds an account, a region and optionally a VPC.
type Project struct {
	ID   string // P-XXXXXXXX
	Name string
	// AccountID is the project's account; its teams, read when the project
	// is read, are who sees the project (accounts.Sees).
	AccountID string
	Region    string
	VpcID     string
	CreatedAt time.Time
}

// Store persists projects. Deleting one that jobs still use is errs.Conflict.
type Store interface {
	CreateProject(ctx context.Context, p Project) error
	GetProject(ctx context.Context, id string) (Project, error)
	// ListProjects lists one page of every team's projects (the service
	// keeps the caller's).
	ListProjects(ctx context.Context, pg identity.Page) ([]Project, string, error)
	UpdateProject(ctx context.Context, p Project) error
	DeleteProject(ctx context.Context, p Project) error
}

// Service applies project rules.
type Service struct {
	Store    Store
	Accounts accounts.Store
	Now      func() time.Time
	NewID    func() string
}

// NewService returns a Service with the real clock and ids.
func NewService(st Store, accs accounts.Store) *Service {
	return &Service{Store: st, Accounts: accs, Now: time.Now, NewID: identity.RandomHex8}
}

// Input is what a caller may set.
type Input struct {
	Name      *string
	AccountID *string
	Region    *string
	VpcID     *string
}

var vpcRE = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)

func (s *Service) apply(ctx context.Context, pr *Project, in Input, caller identity.Principal) error {
	f := errs.Fields{}
	if in.Name != nil {
		if n := strings.TrimSpace(*in.Name); n == "" || utf8.RuneCountInString(n) > 128 {
			f.Add("Name", "Name must be 1 to 128 characters.")
		} else {
			pr.Name = n
		}
	}
	if in.Region != nil {
		if !regions.Valid(*in.Region) {
			f.Add("Region", fmt.Sprintf("%q is not a known region.", *in.Region))
		} else {
			pr.Region = *in.Region
		}
	}
	if in.VpcID != nil {
		if *in.VpcID != "" && !vpcRE.MatchString(*in.VpcID) {
			f.Add("VpcId", "VpcId must look like vpc-0123456789abcdef0.")
		} else {
			pr.VpcID = *in.VpcID
		}
	}
	if in.AccountID != nil {
		a, err := s.Accounts.GetAccount(ctx, *in.AccountID)
		if errs.Is(err, errs.NotFound) || (err == nil && !caller.Sees(a.Teams)) {
			f.Add("AccountId", fmt.Sprintf("Account %q does not exist.", *in.AccountID))
		} else if err != nil {
			return err
		} else {
			pr.AccountID = a.ID
			if pr.Region == "" {
				pr.Region = a.BaseRegion
			}
		}
	}
	return f.Err()
}

func admin(ctx context.Context) (identity.Principal, error) {
	return identity.Admin(ctx, "Only an Administrator may change projects.")
}

// Create adds a project (Administrators only).
func (s *Service) Create(ctx context.Context, in Input) (Project, error) {
	p, err := admin(ctx)
	if err != nil {
		return Project{}, err
	}
	f := errs.Fields{}
	if in.Name == nil {
		f.Add("Name", "Name is required.")
	}
	if in.AccountID == nil {
		f.Add("AccountId", "AccountId is required.")
	}
	if err := f.Err(); err != nil {
		return Project{}, err
	}
	pr := Project{ID: "P-" + s.NewID(), CreatedAt: s.Now().UTC().Truncate(time.Millisecond)}
	if err := s.apply(ctx, &pr, in, p); err != nil {
		return Project{}, err
	}
	return pr, s.Store.CreateProject(ctx, pr)
}

// Get returns a project the caller may see: one whose account (read now)
// shares a team with the caller.
func (s *Service) Get(ctx context.Context, id string) (Project, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return Project{}, err
	}
	pr, err := s.Store.GetProject(ctx, id)
	if err != nil {
		return Project{}, err
	}
	ok, err := accounts.Sees(ctx, s.Accounts, p, pr.AccountID)
	if err == nil && !ok {
		err = errs.NotFoundf("Project %q not found.", id)
	}
	return pr, err
}

// List lists the projects the caller may see.
func (s *Service) List(ctx context.Context, pg identity.Page) ([]Project, string, error) {
	p, err := identity.Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	ps, next, err := s.Store.ListProjects(ctx, pg)
	if err != nil {
		return nil, "", err
	}
	ps, err = accounts.Keep(ctx, s.Accounts, p, ps, func(pr Project) string { return pr.AccountID })
	return ps, next, err
}

// Update changes a project (Administrators only).
func (s *Service) Update(ctx context.Context, id string, in Input) (Project, error) {
	pr, err := s.Get(ctx, id)
	if err != nil {
		return Project{}, err
	}
	p, err := admin(ctx)
	if err != nil {
		return Project{}, err
	}
	if in.AccountID != nil && *in.AccountID != pr.AccountID {
		return Project{}, errs.Field("AccountId", "A project cannot move to another account.")
	}
	if err := s.apply(ctx, &pr, in, p); err != nil {
		return Project{}, err
	}
	return pr, s.Store.UpdateProject(ctx, pr)
}

// Delete deletes a project no job uses (Administrators only).
func (s *Service) Delete(ctx context.Context, id string) error {
	pr, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if _, err := admin(ctx); err != nil {
		return err
	}
	return s.Store.DeleteProject(ctx, pr)
}
