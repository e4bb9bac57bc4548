package identity

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/batchplane/batchplane/shared/errs"
)

// TeamInput is what a caller may set on a team.
type TeamInput struct {
	Name        *string
	Description *string
}

// printable reports whether s is valid UTF-8 of printable characters only
// (letters, marks, numbers, punctuation, symbols and the ASCII space), so
// a name cannot hide a NUL, a zero-width joiner, a bidirectional override
// or a look-alike space: "Organization" followed by U+200B is refused, not
// a second Organization.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || invisible(r) {
			return false
		}
	}
	return true
}

// validateTeam returns the name as stored (canonicalTeamName) and the
// input's field errors. Every check runs on the canonical name, so a
// fullwidth "Ｚ-０００００００１" is a team id like its ASCII form.
func validateTeam(in TeamInput, create bool) (name string, err error) {
	f := errs.Fields{}
	if in.Name == nil {
		if create {
			f.Add("Name", "Name is required.")
		}
	} else if len(*in.Name) > 1024 {
		f.Add("Name", "Name must be at most 64 characters.")
	} else {
		switch name = canonicalTeamName(*in.Name); {
		case !utf8.ValidString(*in.Name):
			f.Add("Name", "Name must be valid UTF-8.")
		case name == "":
			f.Add("Name", "Name must not be empty.")
		case utf8.RuneCountInString(name) > 64:
			f.Add("Name", "Name must be at most 64 characters.")
		case !printable(*in.Name) || !printable(name):
			f.Add("Name", "Name must be printable characters: no control, format (zero-width, bidirectional), invisible or non-ASCII space characters.")
		case mixedScript(name):
			f.Add("Name", "Name must not mix scripts (such as Latin with Cyrillic or Greek): mixed scripts make look-alike names.")
		case strings.Trim(name, ".") == "":
			f.Add("Name", "Name must not be only dots.")
		case strings.ContainsAny(name, "/\\?#%"):
			f.Add("Name", "Name must not contain / \\ ? # or %.")
		case teamIDRE.MatchString(name):
			f.Add("Name", "Name must not look like a team id.")
		}
	}
	if in.Description != nil && utf8.RuneCountInString(*in.Description) > 512 {
		f.Add("Description", "Description must be at most 512 characters.")
	}
	return name, f.Err()
}

// teamIDRE matches team ids; anything else in a team path is a name (team
// names cannot look like ids: see validateTeam).
var teamIDRE = regexp.MustCompile(`^Z-[0-9A-F]{8}$`)

// CreateTeam creates a team (Administrators only).
func (s *Service) CreateTeam(ctx context.Context, in TeamInput) (Team, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return Team{}, err
	}
	name, err := validateTeam(in, true)
	if err != nil {
		return Team{}, err
	}
	t := Team{ID: "Z-" + s.NewID(), Name: name, NameKey: TeamNameKey(name), Description: in.Description, CreatedAt: s.now()}
	if err := s.Store.CreateTeam(ctx, t); err != nil {
		return Team{}, err
	}
	s.names.invalidate()
	return t, nil
}

// Team returns a team by id or name, if the caller may see it.
func (s *Service) Team(ctx context.Context, idOrName string) (Team, error) {
	p, err := Caller(ctx)
	if err != nil {
		return Team{}, err
	}
	var t Team
	if teamIDRE.MatchString(idOrName) {
		t, err = s.Store.GetTeam(ctx, idOrName)
	} else if len(idOrName) > 1024 {
		err = errs.NotFoundf("Team %q not found.", idOrName)
	} else {
		t, err = s.Store.GetTeamByName(ctx, TeamNameKey(idOrName))
	}
	if err != nil {
		return Team{}, err
	}
	if !p.Sees([]string{t.ID}) {
		return Team{}, errs.NotFoundf("Team %q not found.", idOrName)
	}
	return t, nil
}

// Teams lists the teams the caller may see.
func (s *Service) Teams(ctx context.Context, pg Page) ([]Team, string, error) {
	p, err := Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListTeams(ctx, p.Scope(), pg)
}

// MyTeams lists the caller's own teams.
func (s *Service) MyTeams(ctx context.Context, pg Page) ([]Team, string, error) {
	p, err := Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	ids := p.User.Teams
	if ids == nil {
		ids = []string{}
	}
	return s.Store.ListTeams(ctx, ids, pg)
}

// UpdateTeam changes a team's name or description (Administrators only).
func (s *Service) UpdateTeam(ctx context.Context, idOrName string, in TeamInput) (Team, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return Team{}, err
	}
	name, err := validateTeam(in, false)
	if err != nil {
		return Team{}, err
	}
	old, err := s.Team(ctx, idOrName)
	if err != nil {
		return Team{}, err
	}
	t := old
	if in.Name != nil {
		if old.IsDefault && name != old.Name {
			return Team{}, errs.Field("Name", "The default team cannot be renamed.")
		}
		t.Name, t.NameKey = name, TeamNameKey(name)
	}
	if in.Description != nil {
		t.Description = in.Description
	}
	if err := s.Store.UpdateTeam(ctx, old, t); err != nil {
		return Team{}, err
	}
	s.names.invalidate()
	return t, nil
}

// DeleteTeam deletes a team that nothing references (Administrators only).
func (s *Service) DeleteTeam(ctx context.Context, idOrName string) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	t, err := s.Team(ctx, idOrName)
	if err != nil {
		return err
	}
	if t.IsDefault {
		return errs.E(errs.Conflict, "The default team %q cannot be deleted.", t.Name)
	}
	s.names.invalidate()
	return s.Store.DeleteTeam(ctx, t)
}

// TeamUsers lists a team's members.
func (s *Service) TeamUsers(ctx context.Context, idOrName string, pg Page) ([]User, string, error) {
	t, err := s.Team(ctx, idOrName)
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListTeamUsers(ctx, t.ID, pg)
}

// AddTeamUsers adds users, named by user name, to a team (Administrators only).
func (s *Service) AddTeamUsers(ctx context.Context, idOrName string, userNames []string) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	if len(userNames) == 0 {
		return errs.Field("UserName", "At least one user name is required.")
	}
	if len(userNames) > 25 {
		return errs.Field("UserName", "At most 25 users can be added at once.")
	}
	t, err := s.Team(ctx, idOrName)
	if err != nil {
		return err
	}
	users := make([]User, 0, len(userNames))
	seen := map[int64]bool{}
	for _, n := range userNames {
		u, err := s.Store.GetUserByName(ctx, strings.TrimSpace(n))
		if errs.Is(err, errs.NotFound) {
			return errs.Field("UserName", fmt.Sprintf("User %q does not exist.", n))
		}
		if err != nil {
			return err
		}
		if !seen[u.ID] {
			seen[u.ID] = true
			users = append(users, u)
		}
	}
	return s.Store.AddTeamUsers(ctx, t.ID, users)
}

// RemoveTeamUser takes a user, named by user name, out of a team
// (Administrators only). Any team, the default one included: a User in no
// team sees nothing but themselves (issue 7, finding 10). A user who is not
// a member is errs.NotFound, like one who does not exist.
func (s *Service) RemoveTeamUser(ctx context.Context, idOrName, userName string) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	t, err := s.Team(ctx, idOrName)
	if err != nil {
		return err
	}
	u, err := s.Store.GetUserByName(ctx, userName)
	if err != nil {
		return err
	}
	if !slices.Contains(u.Teams, t.ID) {
		return errs.NotFoundf("User %q is not a member of team %q.", userName, t.Name)
	}
	return s.Store.RemoveTeamUser(ctx, t.ID, u)
}

// defaultTeamKey is TeamNameKey(DefaultTeamName), spelt out so that creating
// a user (which looks the default team up) does not link the normalisation
// tables; a test checks the two agree.
const defaultTeamKey = "organization"

// defaultTeam returns the default team's id, cached: it can be neither
// renamed nor deleted.
func (s *Service) defaultTeam(ctx context.Context) (string, error) {
	if id, ok := s.defaultTeamID.Load().(string); ok {
		return id, nil
	}
	t, err := s.Store.GetTeamByName(ctx, defaultTeamKey)
	if err != nil {
		return "", err
	}
	s.defaultTeamID.Store(t.ID)
	return t.ID, nil
}
