package api

import (
	"net/http"

	"github.com/batchplane/batchplane/shared/accounts"
	"github.com/batchplane/batchplane/shared/regions"
)

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
	Id                   string //nolint:revive // documented field name
	Name                 string
	ExternalId           string //nolint:revive // documented field name
}

// accountInput is the body of add and update; pointers tell absent fields.
type accountInput struct {
	Name       *string
	BaseRegion *string
	RoleArn    *string
	Teams      *[]string
}

func (in accountInput) domain() accounts.Input {
	return accounts.Input{Name: in.Name, BaseRegion: in.BaseRegion, RoleArn: in.RoleArn, Teams: in.Teams}
}

func (s *Server) accountJSON(r *http.Request, a accounts.Account) (accountJSON, error) {
	names, err := s.deps.Identity.TeamNames(r.Context(), a.Teams)
	if err != nil {
		return accountJSON{}, err
	}
	return accountJSON{
		ActiveProcessorCount: a.ActiveProcessorCount, Platform: a.Platform, PlatformName: regions.PlatformAWSName,
		BaseRegion: a.BaseRegion, MaxRIPercentageToUse: a.MaxRIPercentageToUse, RoleArn: a.RoleArn,
		Teams: names, Id: a.ID, Name: a.Name, ExternalId: a.ExternalID,
	}, nil
}

// handleAccountsList handles "GET /api/accounts".
func (s *Server) handleAccountsList(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, next, err := s.deps.Accounts.List(r.Context(), pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]accountJSON, 0, len(list))
	for _, a := range list {
		j, err := s.accountJSON(r, a)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out = append(out, j)
	}
	writeData(w, r, http.StatusOK, out, next)
}

// handleAccountGet handles "GET /api/accounts/{id}".
func (s *Server) handleAccountGet(w http.ResponseWriter, r *http.Request) {
	a, err := s.deps.Accounts.Get(r.Context(), Param(r, "id"))
	s.writeAccount(w, r, http.StatusOK, a, err)
}

// handleAccountAdd handles "POST /api/accounts/CloudFrontAWS" and Batchly's
// "POST /api/Accounts/AWS".
func (s *Server) handleAccountAdd(w http.ResponseWriter, r *http.Request) {
	var in accountInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	a, err := s.deps.Accounts.Create(r.Context(), in.domain())
	if err == nil {
		w.Header().Set("Location", "/api/accounts/"+a.ID)
	}
	s.writeAccount(w, r, http.StatusCreated, a, err)
}

// handleAccountUpdate handles "PUT /api/accounts/{id}".
func (s *Server) handleAccountUpdate(w http.ResponseWriter, r *http.Request) {
	var in accountInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	a, err := s.deps.Accounts.Update(r.Context(), Param(r, "id"), in.domain())
	s.writeAccount(w, r, http.StatusOK, a, err)
}

// handleAccountDelete handles "DELETE /api/accounts/{id}".
func (s *Server) handleAccountDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Accounts.Delete(r.Context(), Param(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, true, "")
}

func (s *Server) writeAccount(w http.ResponseWriter, r *http.Request, status int, a accounts.Account, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	j, err := s.accountJSON(r, a)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeData(w, r, status, j, "")
}
