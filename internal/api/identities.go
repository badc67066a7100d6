package api

import (
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
)

// PeoplePage is one page of GET /api/v1/identities.
type PeoplePage struct {
	Identities []identity.Person `json:"identities"`
	// Total is the number of people the filter selects, on every page.
	Total  int `json:"total"`
	Offset int `json:"offset"`
}

// AccountPage is one page of GET /api/v1/accounts.
type AccountPage struct {
	Accounts []identity.Account `json:"accounts"`
	Total    int                `json:"total"`
	Offset   int                `json:"offset"`
}

// identityFilter reads the filter of the identity lists.
func (a *API) identityFilter(r *http.Request) (identity.Filter, error) {
	f, err := identity.ParseFilter(r.URL.Query(), a.svc.Identities.Now())
	var ie *identity.InvalidError
	if errors.As(err, &ie) {
		return f, invalid(ie.Field, "%s", ie.Message)
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	return f, err
}

// listIdentities serves GET /api/v1/identities: the people of the last
// scan, by name, filtered and paged by offset.
func (a *API) listIdentities(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Identities == nil {
		return unavailable("The identity inventory is not available on this server.")
	}
	f, err := a.identityFilter(r)
	if err != nil {
		return err
	}
	people, total, err := a.svc.Identities.People(r.Context(), f)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, PeoplePage{Identities: people, Total: total, Offset: f.Offset})
	return nil
}

// getIdentity serves GET /api/v1/identities/{id}: a person with every
// account and issue.
func (a *API) getIdentity(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Identities == nil {
		return unavailable("The identity inventory is not available on this server.")
	}
	id := r.PathValue("id")
	p, err := a.svc.Identities.Person(r.Context(), id)
	if identity.IsNotFound(err) {
		return notFound("No identity has the id %s.", id)
	}
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, p)
	return nil
}

// listAccounts serves GET /api/v1/accounts: the accounts of the last scan
// in every source, with the same filters.
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Identities == nil {
		return unavailable("The identity inventory is not available on this server.")
	}
	f, err := a.identityFilter(r)
	if err != nil {
		return err
	}
	accounts, total, err := a.svc.Identities.Accounts(r.Context(), f)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, AccountPage{Accounts: accounts, Total: total, Offset: f.Offset})
	return nil
}
