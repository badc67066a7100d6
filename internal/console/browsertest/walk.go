package browsertest

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Target is a running server for the walk, and what the walk needs to know
// about it.
type Target struct {
	// BaseURL is the console's address, e.g. http://127.0.0.1:8080.
	BaseURL string
	// User and Password sign in a super admin.
	User     string
	Password string
	// Template is the title of the template to add. Default "Identity
	// Security Posture Management".
	Template string
	// RoutingFlow is the title of the template's flow that receives issue
	// events. Default "1.0 ISPM Event Routing Flow".
	RoutingFlow string
	// TemplateVars are typed into the template's variable fields.
	TemplateVars map[string]string
	// ConnectionValues returns the Add connection form's values for a
	// connection type (okta, entra, google, salesforce, slack, jira, http),
	// by field name. Fields it leaves out are filled with a plausible value
	// of their kind. Every connection is saved in dry-run mode.
	ConnectionValues func(typ string) map[string]string
	// SourceKind and SourceValues describe the source the walk adds when
	// the server has none (kind as in the source form's select, values by
	// field name).
	SourceKind   string
	SourceValues map[string]string
	// Titles are the issue titles automated. Default "Unused Admin
	// Account" and "No MFA - Admin Account".
	Titles []string
}

func (tg *Target) defaults() {
	if tg.Template == "" {
		tg.Template = "Identity Security Posture Management"
	}
	if tg.RoutingFlow == "" {
		tg.RoutingFlow = "1.0 ISPM Event Routing Flow"
	}
	if len(tg.Titles) == 0 {
		tg.Titles = []string{"Unused Admin Account", "No MFA - Admin Account"}
	}
	if tg.ConnectionValues == nil {
		tg.ConnectionValues = func(string) map[string]string { return nil }
	}
}

// connectionTypes maps the connection names the template's helpers use to
// their types.
var connectionTypes = map[string]string{
	"Okta": "okta", "Microsoft Entra ID": "entra", "Google Workspace": "google",
	"Salesforce": "salesforce", "Slack": "slack", "Jira": "jira",
}

// endpoint is what the Endpoint settings dialog gave.
type endpoint struct {
	URL   string
	Token string
}

// Walk signs in and follows the admin's two paths through the console, then
// connects the ISPM webhook to the template's routing flow, scans and finds
// the routing flow's execution in Flow history:
//
//  1. Templates → search ISPM → select the template → Add template → connect
//     each helper flow's environments → turn on every helper flow → open the
//     routing flow → </> → copy the Invoke URL and Client Token → turn it on.
//  2. Flows → + New Flow → Add event → Built-in triggers → API Endpoint →
//     Secure with client token → Close → Save (name, description, "Save all
//     data that passes through the Flow?") → </> → copy URL and token → on.
//  3. Settings → Outbound integrations → Webhook → Connect: the copied URL,
//     clientToken as a URL parameter, + → Test Connection (success) → Save →
//     Automate Webhook: auto-send, the titles → Add automation.
//  4. Sources → Scan now (adding a source when there is none) → the scan
//     ends → Flow history shows the routing flow's execution.
//
// It saves a screenshot of each major page.
func Walk(t *testing.T, start func(t *testing.T) Target) {
	began := time.Now()
	tg := start(t)
	tg.defaults()
	b := NewBrowser(t, tg.BaseURL)
	mark := func(what string) { t.Logf("%6.1f s  %s", time.Since(began).Seconds(), what) }
	mark("server and browser started")

	// Sign in.
	b.Open("/login")
	b.Type("#username", tg.User)
	b.Type("#password", tg.Password)
	b.Shot("sign-in")
	b.Follow(".login button[type=submit]")
	if got := b.Text(`[data-testid="user-name"]`); got != tg.User {
		t.Fatalf("signed in as %q, want %q", got, tg.User)
	}

	mark("signed in")
	// Path 1: the template.
	b.Follow(`.sections a[href="/workflows/flows"]`)
	b.Follow(`.tabs a[href="/workflows/templates"]`)
	b.Type("#tq", "ISPM")
	b.Follow(`form[role=search] button[type=submit]`)
	b.Shot("templates")
	b.Follow(`//section[.//h3[normalize-space()="` + tg.Template + `"]]//a[@data-testid="select-template"]`)
	for _, name := range Eval[[]string](b, `Array.from(document.querySelectorAll('input[id^="var-"]')).map(e => e.id)`) {
		if v, ok := tg.TemplateVars[strings.TrimPrefix(name, "var-")]; ok {
			b.Type("#"+name, v)
		}
	}
	b.Shot("template-selected")
	b.Follow(`[data-testid="add-template"]`)
	if msg := b.Flash(); !strings.Contains(msg, "added to the folder") {
		t.Fatalf("Add template said %q", msg)
	}
	folderURL := Eval[string](b, `location.pathname + location.search`)
	b.Shot("template-folder")
	flows := b.flowRows()
	if len(flows) < 2 {
		t.Fatalf("the template's folder lists %d flows", len(flows))
	}
	var route string
	shotHelper := true
	for _, f := range flows {
		if f.Title == tg.RoutingFlow {
			route = f.Href
			continue
		}
		if f.Trigger != "Helper flow" {
			continue
		}
		b.Open(f.Href)
		for _, name := range Eval[[]string](b, `Array.from(document.querySelectorAll('[aria-label="Connections this flow uses"] .badge.st-failed')).map(e => e.innerText.split(" · ")[0].trim())`) {
			b.addConnection(tg, name)
			b.Open(f.Href)
		}
		if shotHelper {
			b.Shot("helper-flow")
			shotHelper = false
		}
		b.turnOn(f.Title)
	}
	if route == "" {
		t.Fatalf("the template's folder has no flow titled %q", tg.RoutingFlow)
	}
	mark("template added, helpers connected and on")
	b.Open(route)
	routeEP := b.copyEndpoint("routing-flow-endpoint")
	b.turnOn(tg.RoutingFlow)
	b.Shot("routing-flow")

	mark("routing flow on")
	// Path 2: + New Flow with an API Endpoint card.
	b.Open(folderURL)
	b.Follow(`[data-testid="new-flow"]`)
	b.Click("#add-event")
	b.Click("#pick-builtin")
	b.Click("#pick-api")
	b.Click(`//button[normalize-space()="Secure with client token"]`)
	b.Shot("new-flow-add-event")
	b.Click("#close-event")
	b.Shot("new-flow")
	b.Click("#save-flow")
	b.Type("#f-name", "Intake API")
	b.Type("#f-desc", "Receives events from other systems.")
	b.Click("#f-saveall")
	b.Shot("new-flow-save")
	b.Follow(`[data-testid="save-new-flow"]`)
	if msg := b.Flash(); !strings.Contains(msg, "is saved") {
		t.Fatalf("saving the new flow said %q", msg)
	}
	doc := b.Value("#document")
	for _, want := range []string{"apiEndpoint", "security: clientToken", "saveAllData: true"} {
		if !strings.Contains(doc, want) {
			t.Fatalf("the new flow's document lacks %q:\n%s", want, doc)
		}
	}
	intakeEP := b.copyEndpoint("new-flow-endpoint")
	if intakeEP.URL == routeEP.URL || intakeEP.Token == routeEP.Token {
		t.Fatal("the new flow has the routing flow's invoke URL or token")
	}
	b.turnOn("Intake API")

	mark("new flow on")
	// The ISPM webhook, pointed at the routing flow.
	b.Follow(`.sections a[href="/ispm"]`)
	b.Follow(`.tabs a[href="/ispm/settings/integrations"]`)
	b.Shot("integrations")
	b.Follow(`[data-testid="webhook-connect"]`)
	b.Type("#name", "ISPM routing flow")
	b.Type("#url", routeEP.URL)
	b.Click(`input[name="key_place_new"][value="param"]`)
	b.Type("#key_name_new", "clientToken")
	b.Type("#key_value_new", routeEP.Token)
	b.Click(`[data-add-pair]`)
	if n := Eval[int](b, `document.querySelectorAll('tbody[data-pairs] tr').length`); n != 1 {
		t.Fatalf("after +, the key list has %d rows", n)
	}
	b.Follow(`[data-testid="test-connection"]`)
	if res := b.Text(`[data-testid="test-result"]`); !strings.Contains(res, "Success") {
		t.Fatalf("Test Connection said %q", res)
	}
	b.Shot("webhook-test-connection")
	b.Follow(`[data-testid="save-integration"]`)
	b.Shot("webhook-saved")
	if !Eval[bool](b, `document.getElementById("auto_send").checked`) {
		b.Click("#auto_send")
	}
	for _, title := range tg.Titles {
		b.Type("#title-search", title)
		b.Click(`input[name="title"][value="` + title + `"]`)
	}
	b.Type("#title-search", "")
	b.Follow(`[data-testid="add-automation"]`)
	if msg := b.Flash(); !strings.Contains(msg, "automation is saved") {
		t.Fatalf("Add automation said %q", msg)
	}
	b.Shot("webhook-automated")

	mark("webhook connected and automated")
	// Scan.
	b.Follow(`.tabs a[href="/ispm/sources"]`)
	if Eval[int](b, `document.querySelectorAll('form[action="/ispm/scans"] input[name="source"]').length`) == 0 {
		b.addSource(tg)
	}
	b.Shot("sources")
	b.Follow(`form[action="/ispm/scans"] button[aria-label^="Scan"]`)
	// Scan now queues the job; Latest scans shows it once a worker runs it.
	b.WaitFor("the scan to end", `(() => { const s = document.querySelector('[data-testid="scan-row"][data-trigger="console"] [data-testid="scan-row-status"]');
		return s !== null && ["Succeeded","Partial"].includes(s.innerText.trim()) })()`, true, 2*time.Minute)
	b.Follow(`[data-testid="scan-row"][data-trigger="console"] a`)
	b.Shot("scan")
	mark("scan ended")
	b.Follow(`.tabs a[href="/ispm"]`)
	b.Shot("dashboard")
	b.Follow(`.tabs a[href="/ispm/issues"]`)
	b.Shot("issues")
	b.Follow(`table.grid tbody tr td a[href^="/ispm/issues/"]`)
	b.Shot("issue")

	mark("ISPM pages seen")
	// Flow history has the routing flow's execution of a real event.
	b.Open("/workflows/history")
	b.WaitFor("the routing flow's execution", `Array.from(document.querySelectorAll('[data-testid="executions"] tbody tr')).some(tr =>
		tr.cells.length > 2 && tr.cells[1].innerText.trim() === `+jsString(tg.RoutingFlow)+` && !tr.cells[2].innerText.includes("test"))`, true, time.Minute)
	mark("execution found")
	b.Shot("flow-history")
	b.Follow(`//tr[td[2][normalize-space()="` + tg.RoutingFlow + `"] and not(.//span[normalize-space()="test"])]//a`)
	b.Shot("execution")
	// The helper it started shows the request a dry-run connection would
	// have sent.
	if Eval[int](b, `document.querySelectorAll('a[href^="/workflows/executions/"]').length`) > 0 {
		b.Follow(`a[href^="/workflows/executions/"]`)
		helper := Eval[string](b, `location.pathname`)
		// A helper that suspends asks for approval before it acts: approve
		// its request on the Approvals page the header links to, then come
		// back.
		const dryRun = `/dry/i.test((document.querySelector('[data-testid="notes"]')||{}).innerText||'')`
		const asking = `/pending/i.test((document.querySelector('[data-testid="execution-approvals"]')||{}).innerText||'')`
		b.WaitFor("the helper's dry-run request or its approval request", dryRun+" || "+asking, true, 30*time.Second)
		if Eval[bool](b, asking) {
			b.Shot("helper-waiting")
			b.Follow(`[data-testid="pending-approvals"]`)
			b.Shot("approvals")
			b.Follow(`//section[@data-testid="approval"][.//a[@href="` + helper + `"]]//button[@data-testid="approve"]`)
			b.Open(helper)
		}
		b.WaitFor("the helper's dry-run request", `/dry/i.test((document.querySelector('[data-testid="notes"]')||{}).innerText||'')`, true, 30*time.Second)
		b.Shot("helper-execution")
	}
	b.Follow(`.tabs a[href="/workflows/tables"]`)
	b.Shot("tables")
	b.Open("/workflows/connections")
	b.Shot("connections")
}

// flowRow is one row of a flow list.
type flowRow struct {
	Title   string `json:"title"`
	Href    string `json:"href"`
	Trigger string `json:"trigger"`
}

func (b *Browser) flowRows() []flowRow {
	b.t.Helper()
	raw := Eval[string](b, `JSON.stringify(Array.from(document.querySelectorAll('table.grid tbody tr')).filter(tr => tr.cells.length > 2).map(tr => ({
		title: tr.cells[0].querySelector('a').innerText.trim(), href: tr.cells[0].querySelector('a').getAttribute('href'), trigger: tr.cells[1].innerText.trim()})))`)
	var rows []flowRow
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		b.t.Fatal(err)
	}
	return rows
}

// copyEndpoint opens Endpoint settings with the </> button, presses Copy
// on the Invoke URL and the Client Token, and closes the dialog.
func (b *Browser) copyEndpoint(shot string) endpoint {
	b.t.Helper()
	b.Follow(`[data-testid="endpoint-button"]`)
	b.Click(`[data-testid="copy-url"]`)
	b.Click(`[data-testid="copy-token"]`)
	b.Shot(shot)
	ep := endpoint{URL: b.Value("#invoke-url"), Token: b.Value("#client-token")}
	if !strings.HasSuffix(ep.URL, "/invoke") || ep.Token == "" {
		b.t.Fatalf("Endpoint settings show URL %q and a token of %d characters", ep.URL, len(ep.Token))
	}
	if typ := Eval[string](b, `document.getElementById("client-token").type`); typ != "password" {
		b.t.Fatalf("the client token is shown as %q, not masked", typ)
	}
	b.Click(`#endpoint-dialog .dlg-head [data-close]`)
	return ep
}

// turnOn flips the flow page's switch on and checks the flow says On.
func (b *Browser) turnOn(title string) {
	b.t.Helper()
	if Eval[bool](b, `document.getElementById("flow-on").checked`) {
		return
	}
	b.Follow("#flow-on")
	if state := b.Text(`[data-testid="flow-state"]`); state != "On" {
		b.t.Fatalf("after turning %s on, it says %q; the page said %q", title, state, b.Flash())
	}
}

// addConnection adds the connection a helper flow needs, in dry-run mode.
func (b *Browser) addConnection(tg Target, name string) {
	b.t.Helper()
	typ, ok := connectionTypes[name]
	if !ok {
		typ = "http"
	}
	b.Open("/workflows/connections/new?type=" + url.QueryEscape(typ) + "&name=" + url.QueryEscape(name))
	values := tg.ConnectionValues(typ)
	b.fillForm(values)
	if !Eval[bool](b, `document.getElementById("dry_run").checked`) {
		b.Click("#dry_run")
	}
	b.Follow(`form[action="/workflows/connections"] button[type=submit]`)
	if msg := b.Flash(); !strings.Contains(msg, "is saved") {
		b.t.Fatalf("adding the connection %s said %q", name, msg)
	}
}

// addSource adds the target's source with the form, pressing Test first.
func (b *Browser) addSource(tg Target) {
	b.t.Helper()
	b.Open("/ispm/sources/new?kind=" + url.QueryEscape(tg.SourceKind))
	b.Type("#f-name", "walk")
	b.fillForm(tg.SourceValues)
	b.Follow(`button[name="action"][value="test"]`)
	if res := b.Text(`[data-testid="test-result"]`); res == "" {
		b.t.Fatal("Test of the source showed no result")
	}
	b.fillForm(tg.SourceValues) // secrets are never sent back
	b.Follow(`button[name="action"][value="save"]`)
	if msg := b.Flash(); !strings.Contains(msg, "is saved") {
		b.t.Fatalf("adding the source said %q", msg)
	}
}

// fillForm types values into the v_<field> inputs, and a plausible value
// into required ones left empty.
func (b *Browser) fillForm(values map[string]string) {
	b.t.Helper()
	raw := Eval[string](b, `JSON.stringify(Array.from(document.querySelectorAll('[name^="v_"]')).map(e => ({name: e.name.slice(2), id: e.id, type: e.type, required: e.required, value: e.value})))`)
	var fields []struct {
		Name, ID, Type, Value string
		Required              bool
	}
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		b.t.Fatal(err)
	}
	for _, f := range fields {
		v, ok := values[f.Name]
		if !ok {
			if !f.Required || f.Value != "" {
				continue
			}
			switch f.Type {
			case "url":
				v = "https://example.com"
			case "password":
				v = "dry-run-secret"
			default:
				v = "dry-run"
			}
		}
		if f.Type == "select-one" {
			b.step("choose "+f.Name, setValueAction("#"+f.ID, v))
			continue
		}
		b.Type("#"+f.ID, v)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
