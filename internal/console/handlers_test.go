package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/engine/enginetest"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/store"
)

func TestSignIn(t *testing.T) {
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	cases := []struct {
		name, user, password, next string
		status                     int
		location, body             string
	}{
		{"wrong password", "admin", "nope", "", 401, "", "The user name or password is not correct."},
		{"unknown user", "nobody", "nope", "", 401, "", "The user name or password is not correct."},
		{"landing by role", "viewer", consoletest.Password, "", 303, "/ispm", ""},
		{"next page", "admin", consoletest.Password, "/workflows/history?status=faulted", 303, "/workflows/history?status=faulted", ""},
		{"no open redirect", "admin", consoletest.Password, "//evil.example/x", 303, "/ispm", ""},
		{"no scheme redirect", "admin", consoletest.Password, "https://evil.example/", 303, "/ispm", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pg := post(t, anonymous(), w.URL+"/login", url.Values{"username": {tc.user}, "password": {tc.password}, "next": {tc.next}})
			if pg.Status != tc.status || pg.Location != tc.location || !strings.Contains(pg.Body, tc.body) {
				t.Errorf("status %d to %q, want %d to %q; body has %q: %v", pg.Status, pg.Location, tc.status, tc.location, tc.body, strings.Contains(pg.Body, tc.body))
			}
			if strings.Contains(pg.Body, tc.password) && tc.password != "" && tc.status != 303 {
				t.Error("the sign-in page repeats the password")
			}
		})
	}
	// Signing out ends the session.
	c := w.Client(t, auth.RoleIssueViewer)
	if pg := post(t, c, w.URL+"/logout", nil); pg.Status != 303 || pg.Location != "/login" {
		t.Fatalf("sign out: %d to %q", pg.Status, pg.Location)
	}
	if pg := get(t, c, w.URL+"/ispm"); pg.Status != 303 {
		t.Errorf("after signing out, /ispm answers %d", pg.Status)
	}
}

func TestSaveFlowShowsProblemsInline(t *testing.T) {
	f := setup(t)
	u := f.w.URL + "/workflows/flows/" + f.helperID
	before := get(t, f.admin, u).Body
	bad := "document:\n  dsl: '1.0.0'\n  namespace: ispm\n  name: x\n  version: '1.0.0'\ndo:\n  - a:\n      call: http\n      with:\n        method: get\n  - b:\n      nonsense: true\n"
	pg := post(t, f.admin, u, url.Values{"document": {bad}})
	if pg.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", pg.Status)
	}
	for _, want := range []string{"The flow was not saved", `data-line="`, `class="bad"`, "aria-invalid=\"true\"", "nonsense: true"} {
		if !strings.Contains(pg.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	fl, err := console.FlowService{Service: f.w.Flows}.Flow(context.Background(), f.helperID)
	if err != nil || fl.Version != 1 {
		t.Errorf("a bad document changed the flow: version %d, %v", fl.Version, err)
	}
	good := strings.Replace(string(fl.Document), "2.2 Suspend Okta User", "2.2 Suspend Okta User (edited)", 1)
	pg = post(t, f.admin, u, url.Values{"document": {good}})
	if pg.Status != 303 {
		t.Fatalf("saving a good document: status %d", pg.Status)
	}
	after := get(t, f.admin, u).Body
	if !strings.Contains(after, "Version 2 of 2.2 Suspend Okta User (edited) is saved.") || after == before {
		t.Error("the saved version is not announced")
	}
}

func TestNewFlowWritesTheDocument(t *testing.T) {
	f := setup(t)
	// Each case names its flow anew: a folder holds one flow of a name.
	cases := []struct {
		security, title, name string
		saveAll               bool
		want                  []string
	}{
		{"clientToken", "Intake API", "intake-api", true, []string{"security: clientToken", "saveAllData: true", "title: Intake API", "summary: From the form."}},
		{"oauth2", "Intake OAuth", "intake-oauth", false, []string{"security: oauth2", "saveAllData: false", "title: Intake OAuth"}},
		{"public", "Intake public", "intake-public", false, []string{"security: public"}},
	}
	for _, tc := range cases {
		t.Run(tc.security, func(t *testing.T) {
			form := url.Values{"folder": {f.folderID}, "name": {tc.title}, "description": {"From the form."}, "security": {tc.security}}
			if tc.saveAll {
				form.Set("save_all_data", "on")
			}
			pg := post(t, f.admin, f.w.URL+"/workflows/flows", form)
			if pg.Status != 303 || !strings.HasPrefix(pg.Location, "/workflows/flows/flw_") {
				t.Fatalf("status %d to %q", pg.Status, pg.Location)
			}
			fl, err := console.FlowService{Service: f.w.Flows}.Flow(context.Background(), strings.TrimPrefix(pg.Location, "/workflows/flows/"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(fl.Document), want) {
					t.Errorf("the document lacks %q:\n%s", want, fl.Document)
				}
			}
			if fl.Trigger != "apiEndpoint" || fl.Workflow.Trigger().APIEndpoint.Security != tc.security || fl.Workflow.SaveAllData() != tc.saveAll {
				t.Errorf("the parsed flow has trigger %q, security %q, saveAllData %v", fl.Trigger, fl.Workflow.Trigger().APIEndpoint.Security, fl.Workflow.SaveAllData())
			}
			if fl.Namespace != "identity-security-posture-management" || fl.Name != tc.name {
				t.Errorf("namespace/name %s/%s", fl.Namespace, fl.Name)
			}
		})
	}
	pg := post(t, f.admin, f.w.URL+"/workflows/flows", url.Values{"name": {"No event"}})
	if pg.Status != 303 || !strings.HasPrefix(pg.Location, "/workflows/flows/new") {
		t.Errorf("a flow without its event: status %d to %q", pg.Status, pg.Location)
	}
}

func TestEndpointSettings(t *testing.T) {
	f := setup(t)
	pg := get(t, f.admin, f.w.URL+"/workflows/flows/"+f.routeID+"/endpoint")
	ep, _ := f.w.Endpoints.Ensure(context.Background(), f.routeID)
	token, _ := f.w.Endpoints.Token(ep)
	checks := []struct {
		what string
		re   string
	}{
		{"the invoke URL up to /invoke", `id="invoke-url" type="text" value="` + regexp.QuoteMeta(f.w.URL) + `/api/flo/[a-z0-9]+/invoke"`},
		{"the token masked", `id="client-token" type="password" value="` + token + `"`},
		{"reveal and copy", `data-reveal="#client-token".*data-copy="#client-token"`},
		{"rotate", `action="/workflows/flows/` + f.routeID + `/endpoint/rotate"`},
		{"curl with the token from the environment", `x-api-client-token: \$CLIENT_TOKEN`},
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.re).MatchString(pg.Body) {
			t.Errorf("Endpoint settings lack %s", c.what)
		}
	}
	if strings.Count(pg.Body, token) != 1 {
		t.Errorf("the token appears %d times in the page; only the masked field may hold it", strings.Count(pg.Body, token))
	}
	post(t, f.admin, f.w.URL+"/workflows/flows/"+f.routeID+"/endpoint/rotate", url.Values{"grace": {"0"}})
	ep, _ = f.w.Endpoints.Ensure(context.Background(), f.routeID)
	if t2, _ := f.w.Endpoints.Token(ep); t2 == token {
		t.Error("rotating kept the token")
	}
	pg = get(t, f.admin, f.w.URL+"/workflows/flows/"+f.helperID+"/endpoint")
	if pg.Status != 303 {
		t.Errorf("a helper flow's endpoint page: status %d, want a redirect", pg.Status)
	}
	// A flow without a client token, or no flow at all, has no token to
	// rotate: nothing is made for it.
	for _, id := range []string{f.helperID, "flw_doesnotexist"} {
		post(t, f.admin, f.w.URL+"/workflows/flows/"+id+"/endpoint/rotate", url.Values{"grace": {"0"}})
		if ep, err := f.w.Store.EndpointByFlow(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rotating the token of %s made an endpoint: %+v, %v", id, ep, err)
		}
	}
}

// TestEndpointSigningSecret sets, on the Endpoint settings dialog, the
// secret a signed flow checks: a bad one is refused and changes nothing,
// the sender's own is saved and never shown, a generated one is shown
// once.
func TestEndpointSigningSecret(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	res, err := f.w.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: f.folderID, By: "test", Document: []byte(enginetest.SignedFlow)})
	if err != nil {
		t.Fatal(err)
	}
	dialog := f.w.URL + "/workflows/flows/" + res.Flow.ID + "/endpoint"
	state := func() string {
		t.Helper()
		m := regexp.MustCompile(`(?s)data-testid="signature-state">(.*?)</p>`).FindStringSubmatch(get(t, f.admin, dialog).Body)
		if m == nil {
			t.Fatal("the Endpoint settings of a signed flow do not say the signature's state")
		}
		return m[1]
	}
	if s := state(); !strings.Contains(s, "No signing secret is set: every call is refused") || !strings.Contains(s, "X-Hub-Signature-256") {
		t.Errorf("before a secret: %q", s)
	}
	// The example signs the body it sends, with the secret from the
	// environment.
	curl := html.UnescapeString(regexp.MustCompile(`(?s)<pre id="curl-pre">(.*?)</pre>`).FindStringSubmatch(get(t, f.admin, dialog).Body)[1])
	for _, want := range []string{`BODY='{"hello": "world"}'`, `-H "X-Hub-Signature-256: sha256=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SIGNING_SECRET"`, `-d "$BODY"`} {
		if !strings.Contains(curl, want) {
			t.Errorf("the example lacks %q:\n%s", want, curl)
		}
	}
	set := dialog + "/signing-secret"
	if pg := post(t, f.admin, set, url.Values{"secret": {"short"}, "action": {"set"}}); pg.Status != 303 || pg.Location != "/workflows/flows/"+res.Flow.ID+"/endpoint" {
		t.Fatalf("a short secret: status %d to %q", pg.Status, pg.Location)
	}
	if pg := get(t, f.admin, dialog); !strings.Contains(pg.Body, "16 to 256 characters") || !strings.Contains(pg.Body, "No signing secret is set") {
		t.Errorf("after a short secret the dialog does not say why it was refused, or a secret was set")
	}
	const own = "It's a Secret to Everybody"
	post(t, f.admin, set, url.Values{"secret": {own}, "action": {"set"}})
	if pg := get(t, f.admin, dialog); !strings.Contains(pg.Body, "One signing secret is set.") || strings.Contains(pg.Body, "Secret to Everybody") {
		t.Errorf("after the sender's secret: %q", state())
	}
	post(t, f.admin, set, url.Values{"action": {"generate"}, "keep_previous": {"on"}})
	pg := get(t, f.admin, dialog)
	m := regexp.MustCompile(`id="signing-secret" type="password" value="([0-9a-f]{64})"`).FindStringSubmatch(pg.Body)
	if m == nil || !strings.Contains(pg.Body, "2 signing secrets are set") {
		t.Fatalf("after generating: no new secret shown, or not 2 set: %q", state())
	}
	if again := get(t, f.admin, dialog); strings.Contains(again.Body, m[1]) {
		t.Error("the generated secret is shown a second time")
	}
}

func TestConnectWebhook(t *testing.T) {
	f := setup(t)
	var got atomic.Value
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.Query().Get("clientToken") + "|" + r.Header.Get(hooks.HeaderTest))
		io.WriteString(w, `{"ok":true}`)
	}))
	defer recv.Close()
	base := url.Values{"name": {"Receiver"}, "url": {recv.URL + "/hook"}, "key_name_new": {"clientToken"}, "key_value_new": {"s3cret-value"}, "key_place_new": {"param"}}
	with := func(action string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		v.Set("action", action)
		return v
	}
	// "+" lists the key being typed.
	pg := post(t, f.admin, f.w.URL+"/ispm/settings/integrations/webhook", with("add"))
	if pg.Status != 200 || !strings.Contains(pg.Body, `<td data-cell="name">clientToken</td>`) || !strings.Contains(pg.Body, "URL parameter") {
		t.Fatalf("+ did not list the key: %d", pg.Status)
	}
	// Test Connection sends to the configuration as typed.
	pg = post(t, f.admin, f.w.URL+"/ispm/settings/integrations/webhook", with("test"))
	if !strings.Contains(pg.Body, `data-ok="true"`) || !strings.Contains(pg.Body, "HTTP 200") {
		t.Fatalf("Test Connection did not show success: %.2000s", pg.Body)
	}
	if g, _ := got.Load().(string); g != "s3cret-value|true" {
		t.Errorf("the receiver got %q", g)
	}
	// A bad URL is refused inline.
	bad := with("test")
	bad.Set("url", "not a url")
	if pg = post(t, f.admin, f.w.URL+"/ispm/settings/integrations/webhook", bad); pg.Status != 422 || !strings.Contains(pg.Body, `data-testid="form-error"`) {
		t.Errorf("a bad URL: status %d", pg.Status)
	}
	// Save shows the signing secret once, on the page it redirects to.
	pg = post(t, f.admin, f.w.URL+"/ispm/settings/integrations/webhook", with("save"))
	if pg.Status != 303 || !strings.HasPrefix(pg.Location, "/ispm/settings/integrations/") {
		t.Fatalf("Save: %d to %q, want 303 to the integration", pg.Status, pg.Location)
	}
	pg = get(t, f.admin, f.w.URL+pg.Location)
	if pg.Status != 200 || !strings.Contains(pg.Body, `id="signing-secret" type="password" value="whsec_`) {
		t.Fatalf("Save did not show the signing secret: %d", pg.Status)
	}
	h, err := f.w.Hooks.Get(context.Background(), "Receiver")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Keys) != 1 || h.Keys[0].Name != "clientToken" || h.Keys[0].Placement != hooks.PlaceParam {
		t.Errorf("saved keys %+v", h.Keys)
	}
	if strings.Contains(get(t, f.admin, f.w.URL+"/ispm/settings/integrations/"+h.ID).Body, "whsec_") {
		t.Error("the signing secret is shown again")
	}
	// Automate: titles or all titles are required.
	pg = post(t, f.admin, f.w.URL+"/ispm/settings/integrations/"+h.ID+"/automation", url.Values{"auto_send": {"on"}})
	if pg.Status != 303 {
		t.Fatalf("automation without titles: %d", pg.Status)
	}
	pg = post(t, f.admin, f.w.URL+"/ispm/settings/integrations/"+h.ID+"/automation",
		url.Values{"auto_send": {"on"}, "title": {"Unused Admin Account", "No MFA - Admin Account"}, "event_type": {"issue.created", "issue.resolved"}})
	if pg.Status != 303 {
		t.Fatalf("automation: %d", pg.Status)
	}
	h, _ = f.w.Hooks.Get(context.Background(), h.ID)
	if a := h.Automation; a == nil || !a.AutoSend || len(a.Titles) != 2 || len(a.EventTypes) != 2 {
		t.Errorf("saved automation %+v", a)
	}
}

func TestBulkChangeIssues(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	page, err := f.w.Issues.List(ctx, issue.Filter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{page.Issues[0].ID, page.Issues[1].ID, page.Issues[2].ID}
	responder := f.w.Client(t, auth.RoleIssueResponder)
	cases := []struct {
		action string
		extra  url.Values
		want   issue.Status
		flash  string
	}{
		{"snooze", url.Values{"days": {"7"}}, issue.StatusSnoozed, "3 issues snoozed for 7 days."},
		{"acknowledge", nil, issue.StatusAcknowledged, "3 issues acknowledged."},
		{"false_positive", nil, issue.StatusFalsePositive, "3 issues marked as false positives."},
		{"reopen", nil, issue.StatusOpen, "3 issues reopened."},
	}
	for _, tc := range cases {
		form := url.Values{"id": ids, "action": {tc.action}, "reason": {"triage"}, "back": {"/ispm/issues?status=all"}}
		for k, v := range tc.extra {
			form[k] = v
		}
		pg := post(t, responder, f.w.URL+"/ispm/issues/bulk", form)
		if pg.Status != 303 || pg.Location != "/ispm/issues?status=all" {
			t.Fatalf("%s: status %d to %q", tc.action, pg.Status, pg.Location)
		}
		if msg := get(t, responder, f.w.URL+pg.Location).Body; !strings.Contains(msg, tc.flash) {
			t.Errorf("%s: the next page does not say %q", tc.action, tc.flash)
		}
		for _, id := range ids {
			is, _ := f.w.Issues.Get(ctx, id)
			if is.Status != tc.want {
				t.Errorf("%s: issue %s is %s, want %s", tc.action, id, is.Status, tc.want)
			}
			if last := is.History[len(is.History)-1]; last.By != "responder" || last.Reason != "triage" {
				t.Errorf("%s: history says %q/%q", tc.action, last.By, last.Reason)
			}
		}
	}
	if pg := post(t, responder, f.w.URL+"/ispm/issues/bulk", url.Values{"action": {"acknowledge"}}); pg.Status != 303 {
		t.Errorf("no selection: %d", pg.Status)
	}
}

func TestScanProgressJSON(t *testing.T) {
	f := setup(t)
	pg := get(t, f.admin, f.w.URL+"/ispm/scans/"+f.scanID+"/progress")
	var got struct {
		Status   string `json:"status"`
		Finished bool   `json:"finished"`
		Opened   int    `json:"opened"`
		Message  string `json:"message"`
	}
	if err := json.Unmarshal([]byte(pg.Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "succeeded" || !got.Finished || got.Opened == 0 || !strings.HasPrefix(got.Message, "Scan succeeded:") {
		t.Errorf("progress %+v", got)
	}
	if pg := get(t, f.admin, f.w.URL+"/ispm/scans/scn_nope/progress"); pg.Status != 404 {
		t.Errorf("unknown scan: %d", pg.Status)
	}
}

func TestSourceFormTestAndSave(t *testing.T) {
	f := setup(t)
	file := filepath.Join(t.TempDir(), "second.json")
	if err := synth.WriteSnapshotFile(file, 12, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"kind": {"snapshot"}, "name": {"second"}, "v_file": {file}}
	form.Set("action", "test")
	pg := post(t, f.admin, f.w.URL+"/ispm/sources", form)
	if pg.Status != 200 || !strings.Contains(pg.Body, "The settings are complete") {
		t.Fatalf("Test: %d", pg.Status)
	}
	form.Set("v_file", "/")
	form.Set("action", "save")
	if pg = post(t, f.admin, f.w.URL+"/ispm/sources", form); pg.Status != 422 || !strings.Contains(pg.Body, "is outside the snapshot directory") {
		t.Errorf("a bad value: %d", pg.Status)
	}
	if _, err := f.w.Sources.Get(context.Background(), "second"); err == nil {
		t.Error("a refused form saved the source")
	}
	form.Set("v_file", file)
	if pg = post(t, f.admin, f.w.URL+"/ispm/sources", form); pg.Status != 303 || pg.Location != "/ispm/sources" {
		t.Errorf("Save: %d to %q", pg.Status, pg.Location)
	}
	if _, err := f.w.Sources.Get(context.Background(), "second"); err != nil {
		t.Error(err)
	}
}

func TestTableSearchAndExport(t *testing.T) {
	f := setup(t)
	if pg := get(t, f.admin, f.w.URL+"/workflows/tables/"+f.tableID+"?q=zzz-no-match"); !strings.Contains(pg.Body, "No rows match") {
		t.Error("a search without matches does not say so")
	}
	resp, err := f.admin.Get(f.w.URL + "/workflows/tables/" + f.tableID + "/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="ISPM-Events.csv"` {
		t.Errorf("disposition %q", cd)
	}
	// The header names the table's columns, then the row's own fields.
	header, _, _ := strings.Cut(string(b), "\n")
	if !strings.HasPrefix(header, "Username,Title,") || !strings.Contains(header, ",Severity,") || !strings.HasSuffix(header, ",_id,_createdAt,_updatedAt") {
		t.Errorf("CSV starts %q", b)
	}
}

func TestTokens(t *testing.T) {
	f := setup(t)
	viewer := f.w.Client(t, auth.RoleIssueViewer)
	pg := post(t, viewer, f.w.URL+"/admin/tokens", url.Values{"name": {"laptop"}, "days": {"30"}})
	if pg.Status != 303 || pg.Location != "/admin/tokens" {
		t.Fatalf("creating a token: %d to %q, want 303 to the tokens page", pg.Status, pg.Location)
	}
	pg = get(t, viewer, f.w.URL+pg.Location)
	m := regexp.MustCompile(`id="new-token" type="password" value="(vgl_[a-z0-9]+)"`).FindStringSubmatch(pg.Body)
	if pg.Status != 200 || m == nil {
		t.Fatalf("the new token is not shown: %d", pg.Status)
	}
	if strings.Contains(get(t, viewer, f.w.URL+"/admin/tokens").Body, m[1]) {
		t.Error("the token is shown again")
	}
	// The viewer cannot revoke another user's token; the admin can.
	adminTok, _, err := f.w.Auth.CreateToken(context.Background(), mustUser(t, f.w, auth.RoleSuperAdmin).ID, "admin's", 0)
	if err != nil {
		t.Fatal(err)
	}
	if pg := post(t, viewer, f.w.URL+"/admin/tokens/"+adminTok.ID+"/revoke", nil); pg.Status != 404 {
		t.Errorf("the viewer revoking the admin's token: %d", pg.Status)
	}
	if pg := post(t, f.admin, f.w.URL+"/admin/tokens/"+f.tokenID+"/revoke", nil); pg.Status != 303 {
		t.Errorf("the admin revoking the viewer's token: %d", pg.Status)
	}
	if _, err := f.w.Auth.Token(context.Background(), f.tokenID); err == nil {
		t.Error("the token still exists")
	}
}

func TestUsersAndSettings(t *testing.T) {
	f := setup(t)
	pg := post(t, f.admin, f.w.URL+"/admin/users", url.Values{"name": {"newbie"}, "role": {"issue_responder"}})
	if pg.Status != 303 || pg.Location != "/admin/users" {
		t.Fatalf("creating a user: %d to %q, want 303 to the users page", pg.Status, pg.Location)
	}
	pg = get(t, f.admin, f.w.URL+pg.Location)
	if pg.Status != 200 || !regexp.MustCompile(`id="new-password" type="password" value="[a-z0-9]{20,}"`).MatchString(pg.Body) {
		t.Fatalf("a generated password is not shown: %d", pg.Status)
	}
	u, err := f.w.Auth.UserByName(context.Background(), "newbie")
	if err != nil || u.Role != auth.RoleIssueResponder {
		t.Fatalf("user %+v, %v", u, err)
	}
	post(t, f.admin, f.w.URL+"/admin/users/"+u.ID, url.Values{"role": {"issue_viewer"}, "state": {"disable"}})
	if u, _ = f.w.Auth.User(context.Background(), u.ID); u.Role != auth.RoleIssueViewer || !u.Disabled {
		t.Errorf("after the change: %+v", u)
	}
	cases := []struct {
		form   url.Values
		status int
		says   string
	}{
		{url.Values{"public_url": {"ftp://x"}, "history_days": {"30"}, "delivery_days": {"30"}}, 422, "The public URL must be"},
		{url.Values{"public_url": {"https://vigil.example.com/"}, "allow_outbound": {"10.0.0.0/33"}, "history_days": {"30"}, "delivery_days": {"30"}}, 422, ""},
		{url.Values{"public_url": {"https://vigil.example.com/"}, "history_days": {"0"}, "delivery_days": {"30"}}, 422, "Keep flow history for 1 to 3650 days."},
		{url.Values{"public_url": {"https://vigil.example.com/"}, "allow_outbound": {"127.0.0.0/8"}, "history_days": {"14"}, "delivery_days": {"60"}}, 303, ""},
	}
	for _, tc := range cases {
		pg := post(t, f.admin, f.w.URL+"/admin/settings", tc.form)
		if pg.Status != tc.status || !strings.Contains(pg.Body, tc.says) {
			t.Errorf("%v: status %d, want %d saying %q", tc.form, pg.Status, tc.status, tc.says)
		}
	}
	pg = get(t, f.admin, f.w.URL+"/admin/settings")
	for _, want := range []string{`value="https://vigil.example.com"`, `value="127.0.0.0/8"`, `value="14"`, `value="60"`} {
		if !strings.Contains(pg.Body, want) {
			t.Errorf("saved settings lack %s", want)
		}
	}
}
