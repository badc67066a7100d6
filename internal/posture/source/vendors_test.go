package source

import (
	"context"
	"time"

	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/aws"
	"github.com/vigil-ispm/vigil/internal/aws/awstest"
	"github.com/vigil-ispm/vigil/internal/entra"
	"github.com/vigil-ispm/vigil/internal/entra/entratest"
	"github.com/vigil-ispm/vigil/internal/google/googletest"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func accountsByID(t *testing.T, res *Result) map[string]*graph.Account {
	t.Helper()
	if len(res.Parts) != 1 {
		t.Fatalf("%d parts", len(res.Parts))
	}
	out := map[string]*graph.Account{}
	for _, a := range res.Parts[0].Accounts {
		out[a.IDInService] = a
	}
	return out
}

func read(t *testing.T, b *testBundle, kind Kind, set Settings, cred Credentials) *Result {
	t.Helper()
	m := newMeter("src", nil)
	r, err := b.svc.newReader("src", kind, set, cred, m)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Read(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(kind, res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestEntraReader(t *testing.T) {
	b := setup(t, storetest.SQLite(t), func(c *Config) { c.PageSize = 2 })
	fake := entratest.New(t)
	fake.SetPageSize(2)
	old := t0.AddDate(0, 0, -120)
	recent := t0.AddDate(0, 0, -2)
	fake.AddUser(entratest.User{ID: "u-ga", DisplayName: "Gail Admin", UserPrincipalName: "gail@contoso.example", Mail: "gail@contoso.example",
		AccountEnabled: true, CreatedDateTime: old, LastSignInDateTime: recent, MethodsRegistered: []string{"fido2", "microsoftAuthenticatorPush"}})
	fake.AddUser(entratest.User{ID: "u-weak", DisplayName: "Will Weak", UserPrincipalName: "will@contoso.example",
		AccountEnabled: true, CreatedDateTime: old, LastSignInDateTime: recent, MethodsRegistered: []string{"mobilePhone", "email"}})
	fake.AddUser(entratest.User{ID: "u-none", DisplayName: "Nora None", UserPrincipalName: "nora@contoso.example",
		AccountEnabled: true, CreatedDateTime: old, LastPasswordChangeDateTime: old})
	fake.AddUser(entratest.User{ID: "u-off", DisplayName: "Otto Off", UserPrincipalName: "otto@contoso.example", CreatedDateTime: old})
	fake.AddServicePrincipal(entratest.ServicePrincipal{ID: "sp-ci", AppID: "app-ci", DisplayName: "CI deployer", AccountEnabled: true})
	fake.AddApplication(entratest.Application{ID: "ap-ci", AppID: "app-ci", DisplayName: "CI deployer", CreatedDateTime: old,
		PasswordCredentials: []entratest.Credential{{KeyID: "k1", DisplayName: "ci secret", StartDateTime: old, EndDateTime: t0.AddDate(1, 0, 0)}}})
	fake.AddServicePrincipal(entratest.ServicePrincipal{ID: "sp-idle", AppID: "app-idle", DisplayName: "Idle app", AccountEnabled: true})
	fake.AddRole(entratest.Role{ID: "r-ga", DisplayName: "Global Administrator", RoleTemplateID: entra.GlobalAdministratorTemplateID, MemberIDs: []string{"u-ga"}})
	fake.AddRole(entratest.Role{ID: "r-ua", DisplayName: "User Administrator", RoleTemplateID: "fe930be7-5e62-47db-91af-98c3a49a38b1", MemberIDs: []string{"u-weak", "sp-ci"}})
	fake.FailNext(1, http.StatusTooManyRequests, "2")
	fake.FailNext(1, http.StatusServiceUnavailable, "")

	res := read(t, b, KindEntra, Settings{Tenant: entratest.TenantID, ClientID: entratest.ClientID, GraphURL: fake.URL, LoginURL: fake.URL},
		Credentials{ClientSecret: entratest.ClientSecret})
	if p := res.Parts[0]; p.Product != graph.ProductAAD || p.Tenant != "contoso.example" {
		t.Fatalf("part %s %s", p.Product, p.Tenant)
	}
	acc := accountsByID(t, res)
	if len(acc) != 5 {
		t.Fatalf("%d accounts, want 4 users and the service principal with a secret", len(acc))
	}
	ga, weak, none, off, sp := acc["u-ga"], acc["u-weak"], acc["u-none"], acc["u-off"], acc["sp-ci"]
	if ga.Privilege != graph.PrivilegeGlobalAdmin || !slices.Equal(ga.PrivilegeReasons, []string{"Global Administrator role"}) ||
		ga.MFA.State != graph.MFAEnrolled || !slices.Equal(ga.MFA.Factors, []string{"webauthn", "push"}) || ga.LastLogin == nil {
		t.Errorf("global admin %+v", ga)
	}
	if weak.Privilege != graph.PrivilegeAdmin || !slices.Equal(weak.MFA.Factors, []string{"sms", "email"}) {
		t.Errorf("weak admin %+v", weak)
	}
	if none.MFA.State != graph.MFANone || none.LastLogin != nil || !none.Created.Equal(old) || none.PasswordChanged == nil {
		t.Errorf("no-MFA user %+v", none)
	}
	if off.Status != graph.StatusSuspended {
		t.Errorf("disabled user %+v", off)
	}
	if sp.Kind != graph.KindService || sp.Privilege != graph.PrivilegeAdmin || len(sp.Credentials) != 1 ||
		sp.Credentials[0].Kind != graph.CredentialClientSecret || !sp.Credentials[0].Active || !sp.Credentials[0].Created.Equal(old) {
		t.Errorf("service principal %+v", sp)
	}

	// Token from the login URL, then Graph with a bearer token, paging by
	// @odata.nextLink, the 429 and the 503 retried.
	reqs := b.rec.sent()
	if reqs[0].Method != http.MethodPost || reqs[0].Path != "/"+entratest.TenantID+"/oauth2/v2.0/token" {
		t.Fatalf("first request %+v", reqs[0])
	}
	users, skips, orgs := 0, 0, 0
	for _, r := range reqs[1:] {
		if r.Path == "/v1.0/organization" {
			orgs++
		}
		if r.Auth != "Bearer" || r.Method != http.MethodGet {
			t.Fatalf("graph request %+v", r)
		}
		if r.Path == "/v1.0/users" {
			users++
			q, _ := url.ParseQuery(r.Query)
			if q.Get("$skiptoken") != "" {
				skips++
			}
			if !strings.Contains(q.Get("$select"), "signInActivity") {
				t.Errorf("users listed without signInActivity: %s", r.Query)
			}
		}
	}
	// The organization read first, answered after a 429 and a 503; then
	// 4 users in pages of 2.
	if orgs != 3 || users != 2 || skips != 1 {
		t.Errorf("%d organization and %d user requests (%d with a skip token), want 3 and 2 (1)", orgs, users, skips)
	}
	if b.sleeps.count() != 2 {
		t.Errorf("%d waits, want 2", b.sleeps.count())
	}
}

func TestEntraReaderWithoutSignInLicence(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	fake := entratest.New(t)
	fake.SetPremium(false)
	fake.AddUser(entratest.User{ID: "u1", UserPrincipalName: "a@contoso.example", AccountEnabled: true, CreatedDateTime: t0.AddDate(-1, 0, 0)})
	res := read(t, b, KindEntra, Settings{Tenant: entratest.TenantID, ClientID: entratest.ClientID, GraphURL: fake.URL, LoginURL: fake.URL},
		Credentials{ClientSecret: entratest.ClientSecret})
	a := accountsByID(t, res)["u1"]
	if !a.Created.IsZero() || a.LastLogin != nil || len(res.Warnings) != 1 {
		t.Fatalf("account %+v, warnings %v", a, res.Warnings)
	}
}

func TestGoogleReader(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	fake := googletest.New(t)
	fake.SetPageSize(2)
	fake.AddUser(googletest.User{ID: "g-del", PrimaryEmail: "dana@example.com", FullName: "Dana Del", IsDelegatedAdmin: true,
		IsEnrolledIn2Sv: false, CreationTime: t0.AddDate(-1, 0, 0)})
	fake.AddUser(googletest.User{ID: "g-sus", PrimaryEmail: "sue@example.com", Suspended: true})
	fake.AddUser(googletest.User{ID: "g-arc", PrimaryEmail: "arc@example.com", Archived: true})
	fake.FailNext(1, http.StatusTooManyRequests, "1")
	fake.FailNext(1, http.StatusInternalServerError, "")

	res := read(t, b, KindGoogle, Settings{Subject: googletest.Admin, URL: fake.URL},
		Credentials{ServiceAccountKey: string(fake.ServiceAccountJSON())})
	if p := res.Parts[0]; p.Product != graph.ProductGoogle || p.Tenant != "example.com" {
		t.Fatalf("part %s %s", p.Product, p.Tenant)
	}
	acc := accountsByID(t, res)
	if len(acc) != 4 {
		t.Fatalf("%d accounts", len(acc))
	}
	admin := acc["100000000000000000001"]
	if admin.Privilege != graph.PrivilegeGlobalAdmin || admin.MFA.State != graph.MFAEnrolled || admin.MFA.Enforced == nil || !*admin.MFA.Enforced || admin.LastLogin == nil {
		t.Errorf("super admin %+v", admin)
	}
	if d := acc["g-del"]; d.Privilege != graph.PrivilegeAdmin || d.MFA.State != graph.MFANone || *d.MFA.Enforced || d.LastLogin != nil {
		t.Errorf("delegated admin %+v", d)
	}
	if acc["g-sus"].Status != graph.StatusSuspended || acc["g-arc"].Status != graph.StatusDeprovisioned {
		t.Errorf("statuses %s %s", acc["g-sus"].Status, acc["g-arc"].Status)
	}
	reqs := b.rec.sent()
	pages, tokens := 0, 0
	for _, r := range reqs {
		switch r.Path {
		case "/token":
			if r.Method != http.MethodPost {
				t.Errorf("token request %+v", r)
			}
		case "/admin/directory/v1/users":
			q, _ := url.ParseQuery(r.Query)
			if r.Method != http.MethodGet || r.Auth != "Bearer" || q.Get("customer") != "my_customer" {
				t.Errorf("users request %+v", r)
			}
			pages++
			if q.Get("pageToken") != "" {
				tokens++
			}
		default:
			t.Errorf("unexpected request %+v", r)
		}
	}
	// 4 users in pages of 2, after two failed attempts.
	if pages != 4 || tokens != 1 {
		t.Errorf("%d user requests (%d with a page token), want 4 (1)", pages, tokens)
	}
}

func TestSalesforceReader(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	fake := salesforcetest.New(t)
	fake.SetBatchSize(2)
	old := t0.AddDate(0, 0, -400)
	fake.AddUser(salesforcetest.User{ID: "005A", Username: "amy@acme.com", Email: "amy@acme.com", Name: "Amy Admin", IsActive: true,
		ProfileName: "System Administrator", LastLoginDate: t0.AddDate(0, 0, -1), LastPasswordChangeDate: old, CreatedDate: old})
	fake.AddUser(salesforcetest.User{ID: "005B", Username: "ben@acme.com", Email: "ben@acme.com", Name: "Ben", IsActive: true, ProfileName: "Standard User"})
	fake.AddUser(salesforcetest.User{ID: "005C", Username: "autoproc@acme.com", Name: "Automated Process", IsActive: true, UserType: "AutomatedProcess"})
	fake.AddUser(salesforcetest.User{ID: "005D", Username: "gone@acme.com", Name: "Gone", IsActive: false})
	fake.AddPermissionSet(salesforcetest.PermissionSet{ID: "0PS1", Name: "X00ex", Label: "System Administrator", OwnerProfile: "System Administrator", ModifyAllData: true, ViewAllData: true})
	fake.Assign("005A", "0PS1")
	fake.AddPermissionSet(salesforcetest.PermissionSet{ID: "0PS2", Name: "Auditor", Label: "Auditor", ViewAllData: true})
	fake.Assign("005B", "0PS2")
	fake.FailNext(1, http.StatusTooManyRequests, "1")
	fake.FailNext(1, http.StatusBadGateway, "")

	res := read(t, b, KindSalesforce, Settings{URL: fake.URL, ClientID: salesforcetest.ClientID},
		Credentials{ClientSecret: salesforcetest.ClientSecret})
	if p := res.Parts[0]; p.Product != graph.ProductSalesforce || p.Tenant != hostOf(fake.URL) {
		t.Fatalf("part %s %s", p.Product, p.Tenant)
	}
	acc := accountsByID(t, res)
	if a := acc["005A"]; a.Privilege != graph.PrivilegeAdmin || !slices.Equal(a.PrivilegeReasons, []string{
		"Modify All Data through profile System Administrator", "View All Data through profile System Administrator"}) ||
		a.PasswordChanged == nil || a.LastLogin == nil || a.MFA.State != graph.MFAUnknown {
		t.Errorf("admin %+v", a)
	}
	if a := acc["005B"]; a.Privilege != graph.PrivilegeAdmin || !slices.Equal(a.PrivilegeReasons, []string{"View All Data through permission set Auditor"}) {
		t.Errorf("auditor %+v", a)
	}
	if a := acc["005C"]; a.Kind != graph.KindService {
		t.Errorf("automated process %+v", a)
	}
	if a := acc["005D"]; a.Status != graph.StatusSuspended {
		t.Errorf("inactive %+v", a)
	}
	queries, more := 0, 0
	for _, r := range b.rec.sent() {
		if r.Path == "/services/oauth2/token" {
			continue
		}
		if r.Auth != "Bearer" || r.Method != http.MethodGet {
			t.Errorf("api request %+v", r)
		}
		if strings.HasSuffix(r.Path, "/query") {
			queries++
		} else if strings.Contains(r.Path, "/query/") {
			more++
		}
	}
	// Users: 4 in batches of 2 (a query and a nextRecordsUrl) after the
	// two failed attempts; grants: 3 (two assignments and the profile's) in
	// a query and a nextRecordsUrl.
	if queries != 4 || more != 2 {
		t.Errorf("%d queries and %d next-records requests, want 4 and 2", queries, more)
	}
}

func TestAWSReaderFromAPI(t *testing.T) {
	// The SDK's retryer sleeps on the wall clock: the jitter records each
	// backoff it chose as a wait and makes it wait none.
	var b *testBundle
	b = setup(t, storetest.SQLite(t), func(c *Config) {
		c.Jitter = func(d time.Duration) time.Duration {
			_ = b.sleeps.Sleep(context.Background(), d)
			return 0
		}
	})
	fake := awstest.New(t)
	fake.SetPageSize(1)
	fake.AddUser(awstest.User{UserName: "alice", Groups: []string{"Admins"}})
	fake.AddUser(awstest.User{UserName: "bob"})
	fake.AddGroup(awstest.Group{GroupName: "Admins", AttachedPolicies: []aws.Policy{{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"}}})
	fake.FailNext(1, http.StatusBadRequest, "") // Throttling, as IAM answers it
	fake.FailNext(1, http.StatusInternalServerError, "")

	res := read(t, b, KindAWS, Settings{URL: fake.URL, AccessKeyID: awstest.AccessKeyID}, Credentials{SecretAccessKey: awstest.SecretAccessKey})
	if p := res.Parts[0]; p.Product != graph.ProductAWS || p.Tenant != awstest.AccountID {
		t.Fatalf("part %s %s", p.Product, p.Tenant)
	}
	acc := accountsByID(t, res)
	root := acc["arn:aws:iam::123456789012:root"]
	if !root.Root || root.MFA.State != graph.MFAEnrolled || root.PasswordChanged != nil {
		t.Errorf("root %+v", root)
	}
	alice := acc["arn:aws:iam::123456789012:user/alice"]
	if alice.Privilege != graph.PrivilegeGlobalAdmin || !slices.Equal(alice.PrivilegeReasons, []string{"Member of group Admins, which has AdministratorAccess"}) ||
		alice.Kind != graph.KindHuman || alice.LastLogin == nil {
		t.Errorf("alice %+v", alice)
	}
	for _, r := range b.rec.sent() {
		if r.Method != http.MethodPost || r.Auth != "AWS4-HMAC-SHA256" {
			t.Errorf("request %+v", r)
		}
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %v", res.Warnings)
	}
	// The throttled and failed attempts were retried; the details were
	// read page by page (a marker per page).
	actions := fake.Actions()
	count := map[string]int{}
	for _, a := range actions {
		count[a]++
	}
	if count["GetCredentialReport"] != 1 || count["GetAccountAuthorizationDetails"] < 3 || count["GenerateCredentialReport"] < 3 {
		t.Errorf("actions %v", actions)
	}
	if b.sleeps.count() < 2 {
		t.Errorf("%d waits, want at least one per retry", b.sleeps.count())
	}
}

func TestAWSReaderFromFile(t *testing.T) {
	b := setup(t, storetest.SQLite(t), func(c *Config) { c.FileDir = filepath.Join("..", "..", "aws", "testdata") })
	res := read(t, b, KindAWS, Settings{File: filepath.Join("..", "..", "aws", "testdata", "credential-report.csv")}, Credentials{})
	acc := accountsByID(t, res)
	ci := acc["arn:aws:iam::123456789012:user/automation/ci-deployer"]
	if ci.Kind != graph.KindService || len(ci.Credentials) != 1 || !ci.Credentials[0].Active || ci.Credentials[0].LastRotated == nil || ci.Credentials[0].LastUsed != nil {
		t.Errorf("ci %+v", ci)
	}
	root := acc["arn:aws:iam::123456789012:root"]
	if !root.Root || root.MFA.State != graph.MFANone || len(root.Credentials) != 1 || root.Credentials[0].LastUsed == nil {
		t.Errorf("root %+v", root)
	}
	if len(res.Warnings) != 1 || len(b.rec.sent()) != 0 {
		t.Errorf("warnings %v, %d requests", res.Warnings, len(b.rec.sent()))
	}
}

func TestAWSReaderRefusesMalformedCSV(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	path := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(path, []byte("user,arn\nalice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := b.svc.newReader("aws", KindAWS, Settings{File: path}, Credentials{}, newMeter("aws", nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Read(t.Context(), nil)
	if err == nil {
		t.Fatal("a malformed report was read")
	}
	if msg := describe("aws", KindAWS, err, 0); !strings.HasPrefix(msg, "Reading aws source aws") {
		t.Errorf("message %q", msg)
	}
}
