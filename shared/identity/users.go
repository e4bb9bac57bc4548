package identity

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/errs"
)

// UserInput is what a caller may set on a user.
type UserInput struct {
	UserName *string
	FullName *string
	Role     *string
}

func validateUser(in UserInput, create bool) error {
	f := errs.Fields{}
	if in.UserName == nil {
		if create {
			f.Add("UserName", "UserName is required.")
		}
	} else if a, err := mail.ParseAddress(*in.UserName); err != nil || a.Address != *in.UserName || len(*in.UserName) > 254 {
		f.Add("UserName", "UserName must be an e-mail address.")
	}
	if in.FullName == nil {
		if create {
			f.Add("FullName", "FullName is required.")
		}
	} else if n := strings.TrimSpace(*in.FullName); n == "" || utf8.RuneCountInString(n) > 128 {
		f.Add("FullName", "FullName must be 1 to 128 characters.")
	}
	if in.Role == nil {
		if create {
			f.Add("Role", "Role is required.")
		}
	} else if *in.Role != RoleAdministrator && *in.Role != RoleUser {
		f.Add("Role", "Role must be Administrator or User.")
	}
	return f.Err()
}

// CreateUser adds a user to the organization and its default team
// (Administrators only): new users join the default team, and an
// Administrator may then remove them from it (RemoveTeamUser).
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return User{}, err
	}
	if err := validateUser(in, true); err != nil {
		return User{}, err
	}
	def, err := s.defaultTeam(ctx)
	if err != nil {
		return User{}, fmt.Errorf("create user: default team: %w", err)
	}
	return s.createUser(ctx, *in.UserName, strings.TrimSpace(*in.FullName), *in.Role, def)
}

func (s *Service) createUser(ctx context.Context, userName, fullName, role, teamID string) (User, error) {
	id, err := s.Store.NextUserID(ctx)
	if err != nil {
		return User{}, err
	}
	u := User{ID: id, UserName: userName, FullName: fullName, Role: role, Teams: []string{teamID}, CreatedAt: s.now()}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// User returns a user the caller may see: administrators see everyone,
// others themselves and those who share a team with them.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	p, err := Caller(ctx)
	if err != nil {
		return User{}, err
	}
	u, err := s.Store.GetUser(ctx, id)
	if err != nil {
		return User{}, err
	}
	if u.ID != p.User.ID && !p.Sees(u.Teams) {
		return User{}, errs.NotFoundf("User %d not found.", id)
	}
	return u, nil
}

// Users lists the users the caller may see: an Administrator everyone, a
// User those who share a team with them, and a User in no team (removed
// from every team, the default one included) only themselves.
func (s *Service) Users(ctx context.Context, pg Page) ([]User, string, error) {
	p, err := Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	if !p.IsAdmin() && len(p.User.Teams) == 0 {
		if pg.Token != "" {
			return nil, "", errs.Field("ContinuationToken", "The ContinuationToken is invalid or belongs to another listing.")
		}
		return []User{p.User}, "", nil
	}
	return s.Store.ListUsers(ctx, p.Scope(), pg)
}

// UpdateUser changes a user (Administrators only; an administrator cannot
// demote themselves, so the organization always keeps one).
func (s *Service) UpdateUser(ctx context.Context, id int64, in UserInput) (User, error) {
	p, err := requireAdmin(ctx)
	if err != nil {
		return User{}, err
	}
	if err := validateUser(in, false); err != nil {
		return User{}, err
	}
	old, err := s.User(ctx, id)
	if err != nil {
		return User{}, err
	}
	u := old
	if in.UserName != nil {
		u.UserName = *in.UserName
	}
	if in.FullName != nil {
		u.FullName = strings.TrimSpace(*in.FullName)
	}
	if in.Role != nil {
		if old.ID == p.User.ID && *in.Role != RoleAdministrator {
			return User{}, errs.Field("Role", "You cannot remove your own Administrator role.")
		}
		u.Role = *in.Role
	}
	if err := s.Store.UpdateUser(ctx, old, u); err != nil {
		return User{}, err
	}
	return u, nil
}
