package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
)

// Identities reads the identity inventory: the people and accounts of the
// last scan. *identity.Service satisfies it.
type Identities interface {
	People(ctx context.Context, f identity.Filter) ([]identity.Person, int, error)
	Accounts(ctx context.Context, f identity.Filter) ([]identity.Account, int, error)
	Person(ctx context.Context, personID string) (*identity.PersonDetail, error)
	Now() time.Time
}

// peopleColumns and accountColumns are the columns of the two lists, in
// the store's names (store.IdentityPeopleSorts and
// store.IdentityAccountSorts); Open issues, without a key, is not sortable.
var (
	peopleColumns = []sortColumn{{Key: "name", Label: "Person"}, {Key: "email", Label: "Email"}, {Key: "status", Label: "Status"},
		{Key: "accounts", Label: "Accounts", Class: "num"}, {Key: "lastLogin", Label: "Last sign-in"}, {Label: "Open issues", Class: "num"}}
	accountColumns = []sortColumn{{Key: "account", Label: "Account"}, {Key: "person", Label: "Person"}, {Key: "source", Label: "Source"},
		{Key: "type", Label: "Type"}, {Key: "privilege", Label: "Privilege"}, {Key: "mfa", Label: "MFA"}, {Key: "status", Label: "Status"},
		{Key: "lastLogin", Label: "Last sign-in"}, {Label: "Open issues", Class: "num"}}
)

// showIdentityList serves GET /ispm/identities: people (or, with
// ?view=accounts, accounts) filtered by search, source, privilege, MFA,
// type, status, activity and issue count, 50 a page.
func (c *Console) showIdentityList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Identities == nil {
		c.unavailable(w, r, "Identities")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	f, err := identity.ParseFilter(q, c.svc.Identities.Now())
	var ie *identity.InvalidError
	if errors.As(err, &ie) {
		c.errorPage(w, r, http.StatusBadRequest, httpjson.Sentence(ie.Message))
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	f.Limit = pageSize
	view := q.Get("view")
	v := c.view(w, r, "identity_list", "Identities", "ispm").Set("tab", "identities")
	var total int
	cols, def := peopleColumns, "name"
	if view == "accounts" {
		cols, def = accountColumns, "source"
	}
	f.Sort, f.Desc = readSort(r, cols)
	v.Set("columns", sortHeaders(r, cols, f.Sort, f.Desc, def, false))
	if view == "accounts" {
		var accounts []identity.Account
		accounts, total, err = c.svc.Identities.Accounts(ctx, f)
		v.Set("accounts", accounts)
	} else {
		view = "people"
		var people []identity.Person
		people, total, err = c.svc.Identities.People(ctx, f)
		v.Set("people", people)
	}
	sources, serr := c.sourceNames(ctx, r)
	if err := errors.Join(err, serr); err != nil {
		c.serverError(w, r, err)
		return
	}
	v.Set("view", view).Set("total", total).Set("pager", newPager(r, total, pageSize, f.Offset)).
		Set("q", q.Get("q")).Set("source", q.Get("source")).Set("sources", sources).
		Set("privileged", q.Get("privileged")).Set("mfa", q.Get("mfa")).Set("mfaStates", identity.MFAStates).
		Set("kind", q.Get("type")).Set("kinds", identity.Kinds).Set("status", q.Get("status")).Set("statuses", identity.Statuses).
		Set("activity", q.Get("activity")).Set("minIssues", q.Get("minIssues")).Set("inactiveDays", identity.InactiveDays).
		Set("sort", f.Sort).Set("dir", q.Get("dir")).
		Set("peopleLink", queryWith(r, "view", "", "offset", "", "sort", "", "dir", "")).
		Set("accountsLink", queryWith(r, "view", "accounts", "offset", "", "sort", "", "dir", "")).Render()
}

// showIdentity serves GET /ispm/identities/{id}: a person with every
// account, its privilege, MFA and credentials with their ages, and the
// person's issues.
func (c *Console) showIdentity(w http.ResponseWriter, r *http.Request) {
	if c.svc.Identities == nil {
		c.unavailable(w, r, "Identities")
		return
	}
	p, err := c.svc.Identities.Person(r.Context(), r.PathValue("id"))
	if identity.IsNotFound(err) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	title := p.DisplayName
	if title == "" {
		title = p.Email
	}
	c.view(w, r, "identity_show", title, "ispm").Set("tab", "identities").Set("person", p).Render()
}
