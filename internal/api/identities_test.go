package api

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestIdentitiesNameTheNoMFAAdmins checks the identity inventory against
// the issues of the same scan: the people GET /api/v1/identities lists
// for privileged=true&mfa=none are exactly the people the open "No MFA"
// admin issues name, and the person of each shows the account and the
// issue.
func TestIdentitiesNameTheNoMFAAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		var issues IssuePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?status=open&limit=500&title="+url.QueryEscape("No MFA - Admin Account")+
			"&title="+url.QueryEscape("No MFA - Global Admin Account"), nil).decode(t, &issues)
		var accounts AccountPage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/accounts?limit=500", nil).decode(t, &accounts)
		if accounts.Total == 0 || accounts.Total > 500 {
			t.Fatalf("the scan's accounts: %d", accounts.Total)
		}
		personOf := map[[3]string]string{}
		for _, a := range accounts.Accounts {
			personOf[[3]string{a.SourceProductName, a.SourceProductTenant, a.IDInService}] = a.PersonID
		}
		wantPeople := map[string][]string{} // person id → issue ids
		for _, i := range issues.Issues {
			e := i.AffectedEntity
			p, ok := personOf[[3]string{e.SourceProductName, e.SourceProductTenant, e.IDInService}]
			if !ok {
				t.Errorf("issue %s names account %s/%s, which is not in the inventory", i.ID, e.SourceProductName, e.IDInService)
			}
			if p != "" {
				wantPeople[p] = append(wantPeople[p], i.ID)
			}
		}
		if len(wantPeople) == 0 {
			t.Fatalf("the organization has no admin without MFA (%d issues): the test proves nothing", issues.Total)
		}

		var got PeoplePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/identities?privileged=true&mfa=none&limit=500", nil).decode(t, &got)
		var gotIDs []string
		for _, p := range got.Identities {
			gotIDs = append(gotIDs, p.ID)
			if _, ok := wantPeople[p.ID]; !ok {
				t.Errorf("identities lists %s (%s), whom no No MFA admin issue names", p.DisplayName, p.ID)
			}
		}
		for p := range wantPeople {
			if !slices.Contains(gotIDs, p) {
				t.Errorf("a No MFA admin issue names person %s, whom identities does not list", p)
			}
		}
		if got.Total != len(got.Identities) {
			t.Errorf("total %d, listed %d", got.Total, len(got.Identities))
		}
		var all PeoplePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/identities?limit=500", nil).decode(t, &all)
		if all.Total <= got.Total {
			t.Errorf("every person: %d; admins without MFA: %d; want fewer admins without MFA", all.Total, got.Total)
		}

		// The person page shows the account and its issue.
		id := got.Identities[0].ID
		var d identity.PersonDetail
		want(t, "person", b.do(auth.RoleIssueViewer, "GET", "/api/v1/identities/"+id, nil), http.StatusOK, "")
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/identities/"+id, nil).decode(t, &d)
		admin := slices.IndexFunc(d.AccountList, func(a identity.Account) bool {
			return a.Privilege != "none" && a.MFA == "none" && a.Status == "active"
		})
		if admin < 0 || d.AccountList[admin].PersonID != id {
			t.Errorf("person %s has no active admin account without MFA: %+v", id, d.AccountList)
		}
		for _, issueID := range wantPeople[id] {
			if !slices.ContainsFunc(d.Issues, func(i identity.Issue) bool { return i.ID == issueID && i.AccountID != "" }) {
				t.Errorf("person %s does not list issue %s with its account: %+v", id, issueID, d.Issues)
			}
		}
		if d.OpenIssues < len(wantPeople[id]) {
			t.Errorf("person %s counts %d open issues; want at least %d", id, d.OpenIssues, len(wantPeople[id]))
		}

		// Paging, and refusals that name the parameter.
		var p1 PeoplePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/identities?limit=2&offset=1", nil).decode(t, &p1)
		if len(p1.Identities) != 2 || p1.Identities[0].ID != all.Identities[1].ID || p1.Total != all.Total {
			t.Errorf("offset 1, limit 2: %+v", p1)
		}
		for _, tc := range []struct{ query, field string }{
			{"privileged=maybe", "privileged"}, {"mfa=some", "mfa"}, {"type=robot", "type"},
			{"activity=sleepy", "activity"}, {"limit=501", "limit"}, {"minIssues=-1", "minIssues"},
		} {
			r := b.do(auth.RoleIssueViewer, "GET", "/api/v1/identities?"+tc.query, nil)
			want(t, tc.query, r, http.StatusBadRequest, "invalid")
			if _, field := r.errorCode(); field != tc.field {
				t.Errorf("%s: field %q; want %q", tc.query, field, tc.field)
			}
		}
		want(t, "unknown person", b.do(auth.RoleIssueViewer, "GET", "/api/v1/identities/idn_nobody", nil), http.StatusNotFound, "not_found")
		want(t, "anonymous", b.do("", "GET", "/api/v1/accounts", nil), http.StatusUnauthorized, "unauthorized")
	})
}
