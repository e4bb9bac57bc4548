package api

import (
	"net/http"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/regions"
	"github.com/batchplane/batchplane/shared/routes"
)

// Accounts is the accounts function's binding: functions/accounts serves it (app.HTTP(api.Accounts())),
// so that binary links these handlers and no other function's.
func Accounts() Binding { return Binding{routes.FnAccounts, (*Server).accountsRoutes} }

// accountsRoutes binds the routes of the accounts function.
func (s *Server) accountsRoutes() []endpoint {
	return []endpoint{
		op("accounts.list", http.StatusOK, data, s.handleAccountsList),
		op("accounts.get", http.StatusOK, data, s.handleAccountGet),
		op("accounts.add", http.StatusCreated, data, s.handleAccountAdd),
		op("accounts.update", http.StatusOK, data, s.handleAccountUpdate),
		op("accounts.delete", http.StatusOK, data, s.handleAccountDelete),
	}
}

// accountJSON is an account as seed 001 shows it, plus ExternalId, which
// the customer needs for the role's trust policy.
type accountJSON struct {
	ActiveProcessorCount float64
	Platform             string
	PlatformName         string
	BaseRegion           string
	MaxRIPercentageToUse float64
	RoleArn              string
	Teams                []string
	ID                   string `json:"Id" pattern:"^A-[0-9A-F]{8}$"`
	Name                 string
	ExternalID           string `json:"ExternalId"`
}

// accountInput is the body of update; pointers tell absent fields.
type accountInput struct {
	Name       *string
	BaseRegion *string
	RoleArn    *string
	Teams      *[]string
}

// accountAddInput is the body of add: accountInput with its required members.
type accountAddInput accountInput

func (accountAddInput) requiredFields() []string { return []string{"Name", "BaseRegion", "RoleArn"} }

func (in accountInput) domain() accounts.Input {
	return accounts.Input{Name: in.Name, BaseRegion: in.BaseRegion, RoleArn: in.RoleArn, Teams: in.Teams}
}

func (s *Server) accountJSON(r *http.Request, a accounts.Account) (*accountJSON, error) {
	names, err := s.deps.Identity.TeamNames(r.Context(), a.Teams)
	if err != nil {
		return nil, err
	}
	return &accountJSON{
		ActiveProcessorCount: a.ActiveProcessorCount, Platform: a.Platform, PlatformName: regions.PlatformAWSName,
		BaseRegion: a.BaseRegion, MaxRIPercentageToUse: a.MaxRIPercentageToUse, RoleArn: a.RoleArn,
		Teams: names, ID: a.ID, Name: a.Name, ExternalID: a.ExternalID,
	}, nil
}

// handleAccountsList handles "GET /api/accounts".
func (s *Server) handleAccountsList(r *http.Request, _ *noBody) (*list[[]accountJSON], error) {
	pg, err := page(r)
	if err != nil {
		return nil, err
	}
	accs, next, err := s.deps.Accounts.List(r.Context(), pg)
	if err != nil {
		return nil, err
	}
	out := make([]accountJSON, 0, len(accs))
	for _, a := range accs {
		j, err := s.accountJSON(r, a)
		if err != nil {
			return nil, err
		}
		out = append(out, *j)
	}
	return &list[[]accountJSON]{items: out, next: next}, nil
}

// handleAccountGet handles "GET /api/accounts/{id}".
func (s *Server) handleAccountGet(r *http.Request, _ *noBody) (*accountJSON, error) {
	a, err := s.deps.Accounts.Get(r.Context(), Param(r, "id"))
	if err != nil {
		return nil, err
	}
	return s.accountJSON(r, a)
}

// handleAccountAdd handles "POST /api/accounts/CloudFrontAWS" and Batchly's
// "POST /api/Accounts/AWS".
func (s *Server) handleAccountAdd(r *http.Request, in *accountAddInput) (*accountJSON, error) {
	a, err := s.deps.Accounts.Create(r.Context(), accountInput(*in).domain())
	if err != nil {
		return nil, err
	}
	setLocation(r, "/api/accounts/"+a.ID)
	return s.accountJSON(r, a)
}

// handleAccountUpdate handles "PUT /api/accounts/{id}".
func (s *Server) handleAccountUpdate(r *http.Request, in *accountInput) (*accountJSON, error) {
	a, err := s.deps.Accounts.Update(r.Context(), Param(r, "id"), in.domain())
	if err != nil {
		return nil, err
	}
	return s.accountJSON(r, a)
}

// handleAccountDelete handles "DELETE /api/accounts/{id}".
func (s *Server) handleAccountDelete(r *http.Request, _ *noBody) (bool, error) {
	if err := s.deps.Accounts.Delete(r.Context(), Param(r, "id")); err != nil {
		return false, err
	}
	return true, nil
}
