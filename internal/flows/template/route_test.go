package template_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
)

// stubResolver answers for the template's helper flows with a flow that
// does nothing, so routing is tested alone.
type stubResolver struct{ real *resolver }

var stub = func() *dsl.Workflow {
	w, err := dsl.Parse([]byte(`{"document": {"dsl": "1.0.0", "namespace": "t", "name": "stub", "version": "1.0.0"}, "do": [{"noop": {"set": {"ok": true}}}]}`))
	if err != nil {
		panic(err)
	}
	return w
}()

func (r stubResolver) Resolve(ctx context.Context, ref engine.FlowRef) (*dsl.Workflow, error) {
	if _, err := r.real.Resolve(ctx, ref); err != nil {
		return nil, err
	}
	return stub, nil
}

// route runs the routing flow on input and returns the titles of the
// helpers it started, its output and the results it recorded.
func route(t *testing.T, vars map[string]string, input any) ([]string, map[string]any, []string) {
	t.Helper()
	e := newFlows(t, vars, connector.New(connector.Config{}))
	titles := map[string]string{}
	for title, w := range e.flows {
		titles[w.Document.Namespace+"/"+w.Document.Name] = title
	}
	eng := engine.New(engine.Config{Catalog: e.cat, Flows: stubResolver{e.resolver}})
	in, _ := engine.Normalize(input)
	j := engine.NewMemoryJournal()
	res, err := eng.Run(context.Background(), e.flows["1.0 ISPM Event Routing Flow"], in, engine.RunOptions{Journal: j})
	if err != nil {
		t.Fatalf("the routing flow faulted: %v", err)
	}
	var started []string
	for _, c := range res.Children {
		if c.Fault != nil || c.Err != nil {
			t.Errorf("helper %s failed: %v %v", c.Flow, c.Fault, c.Err)
		}
		started = append(started, titles[c.Flow.Namespace+"/"+c.Flow.Name])
	}
	slices.Sort(started)
	out, _ := res.Output.(map[string]any)
	return started, out, results(j)
}

// serviceNotNotified is the routing flow's result for a service account's
// issue when no notification helper is set.
const serviceNotNotified = "service account issue: not remediated; set slackChannel or jiraProject to notify its owner"

func TestRouting(t *testing.T) {
	notify := map[string]string{"slackChannel": "#security", "jiraProject": "SEC"}
	tests := []struct {
		name    string
		product string
		title   string
		vars    map[string]string
		helpers []string
		result  string
	}{
		{"okta unused admin", "Okta", "Unused Admin Account", nil, []string{"2.2 Suspend Okta User"}, "routed to 2.2 Suspend Okta User"},
		{"okta unused account", "Okta", "Unused Account", nil, []string{"2.2 Suspend Okta User"}, "routed to 2.2 Suspend Okta User"},
		{"okta unused global admin service account: notified", "Okta", "Unused Global Admin Service Account", notify, []string{"5.1 Notify Slack channel", "5.2 Create Jira issue"}, "routed to 5.1 Notify Slack channel and 5.2 Create Jira issue"},
		{"okta unused global admin service account: no notifier", "Okta", "Unused Global Admin Service Account", nil, nil, serviceNotNotified},
		{"entra unused", "AAD", "Unused Global Admin Account", nil, []string{"2.1 Disable Entra ID User"}, "routed to 2.1 Disable Entra ID User"},
		{"google unused", "Google Workspace", "Unused Account", nil, []string{"2.3 Suspend Google Workspace User"}, "routed to 2.3 Suspend Google Workspace User"},
		{"salesforce unused", "Salesforce.com", "Unused Admin Account", nil, []string{"2.4 Deactivate Salesforce User"}, "routed to 2.4 Deactivate Salesforce User"},
		{"entra no mfa", "AAD", "No MFA - Admin Account", nil, []string{"3.1 Entra ID - Add user to a group"}, "routed to 3.1 Entra ID - Add user to a group"},
		{"entra pending mfa", "AAD", "Pending MFA - Account", nil, []string{"3.1 Entra ID - Add user to a group"}, "routed to 3.1 Entra ID - Add user to a group"},
		{"okta no mfa", "Okta", "No MFA - Admin Account", nil, []string{"3.2 Okta - Add user to a group"}, "routed to 3.2 Okta - Add user to a group"},
		{"okta pending mfa", "Okta", "Pending MFA - Global Admin Account", nil, []string{"3.2 Okta - Add user to a group"}, "routed to 3.2 Okta - Add user to a group"},
		{"okta mfa not enforced", "Okta", "No MFA Enforced - Global Admin Account", nil, []string{"3.2 Okta - Add user to a group"}, "routed to 3.2 Okta - Add user to a group"},
		{"okta old password", "Okta", "Old Password - Admin Account", nil, []string{"4.1 Okta - Reset User Password Upon Next Login"}, "routed to 4.1 Okta - Reset User Password Upon Next Login"},
		{"google no mfa: no helper, no notifier", "Google Workspace", "No MFA - Account", nil, nil, "no matching route"},
		{"google no mfa: notified", "Google Workspace", "No MFA - Account", notify, []string{"5.1 Notify Slack channel", "5.2 Create Jira issue"}, "routed to 5.1 Notify Slack channel and 5.2 Create Jira issue"},
		{"aws root: slack only", "AWS", "Root Account without MFA", map[string]string{"slackChannel": "#security"}, []string{"5.1 Notify Slack channel"}, "routed to 5.1 Notify Slack channel"},
		{"entra old password: jira only", "AAD", "Old Password - Account", map[string]string{"jiraProject": "SEC"}, []string{"5.2 Create Jira issue"}, "routed to 5.2 Create Jira issue"},
		{"unknown product", "Workday", "Unused Account", notify, nil, "no matching route"},
		{"unknown title", "Okta", "Dormant Robot", notify, nil, "no matching route"},
		{"access key is not an account", "AWS", "Unused Access Key", nil, nil, "no matching route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := issue(tt.product, tt.title, "00u00000000000000001", "ali.lesch@example.com")
			helpers, out, results := route(t, tt.vars, invocation(issueEvent(is), false))
			if !slices.Equal(helpers, tt.helpers) {
				t.Errorf("started %q, want %q", helpers, tt.helpers)
			}
			if !slices.Equal(results, []string{tt.result}) {
				t.Errorf("results %q, want %q", results, tt.result)
			}
			if out["product"] != tt.product || out["title"] != tt.title {
				t.Errorf("output %v", out)
			}
		})
	}
}

func TestRoutingTestEventCallsNoHelper(t *testing.T) {
	ev := event.Sample("0b8f3c7e-2f1d-4a8e-9b0c-6f1e2d3c4b5a", testNow, "https://vigil.example.com")
	for _, header := range []string{"true", "TRUE", "True"} {
		in := invocation(ev, true)
		in["headers"].(map[string]any)["x-vigil-test"] = header
		helpers, out, results := route(t, map[string]string{"slackChannel": "#security"}, in)
		if len(helpers) != 0 {
			t.Errorf("X-Vigil-Test: %s started %q", header, helpers)
		}
		if out["result"] != "test event" || !slices.Equal(results, []string{"test event: recorded, no helper flow called"}) {
			t.Errorf("output %v, results %q", out, results)
		}
	}
	// The same event without the header is remediated.
	helpers, _, _ := route(t, nil, invocation(ev, false))
	if !slices.Equal(helpers, []string{"2.2 Suspend Okta User"}) {
		t.Errorf("the sample event without the header started %q", helpers)
	}
}

func TestRoutingOddInputs(t *testing.T) {
	okta := issue("Okta", "Unused Admin Account", "00u00000000000000001", "a@example.com")
	resolved := issueEvent(okta)
	resolved.Type = event.TypeResolved
	tests := []struct {
		name  string
		input any
	}{
		{"resolved issue", invocation(resolved, false)},
		{"empty body", map[string]any{"body": map[string]any{}, "headers": map[string]any{}}},
		{"text body", map[string]any{"body": "hello", "headers": map[string]any{}}},
		{"no body", map[string]any{"headers": map[string]any{}}},
		{"eventData not an object", map[string]any{"body": map[string]any{"eventData": []any{1, 2}}, "headers": map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			helpers, out, results := route(t, map[string]string{"slackChannel": "#security"}, tt.input)
			if len(helpers) != 0 || out["result"] != "no matching route" || !slices.Equal(results, []string{"no matching route"}) {
				t.Errorf("started %q, output %v, results %q; want no helper and no matching route", helpers, out, results)
			}
		})
	}
}

// TestRoutingFromOktaISPM feeds the routing flow an event as Okta ISPM's
// event hook sends it: no type, none of Vigil's additions.
func TestRoutingFromOktaISPM(t *testing.T) {
	body := map[string]any{"eventData": map[string]any{
		"title": "No MFA - Admin Account", "category": "MFA", "severity": "HIGH",
		"shortDescription": "Admin account without MFA", "fullDescription": "…", "detectedAt": "2026-11-28T09:59:58Z",
		"suggestedRemediation": "…", "riskAndImpact": "…",
		"affectedEntity": map[string]any{"displayName": "Ali Lesch", "idInService": "00u1a2b3c4D5e6F7g8h9",
			"sourceProductName": "Okta", "sourceProductTenant": "example.okta.com"},
	}}
	helpers, _, _ := route(t, nil, map[string]any{"body": body, "headers": map[string]any{"content-type": "application/json"}})
	if !slices.Equal(helpers, []string{"3.2 Okta - Add user to a group"}) {
		t.Errorf("started %q", helpers)
	}
}

// TestRoutingKnowsEveryTitle keeps the routing flow's list of known
// titles equal to the detection catalog.
func TestRoutingKnowsEveryTitle(t *testing.T) {
	for _, d := range detect.Catalog() {
		is := issue("Okta", d.Title, "00u00000000000000001", "a@example.com")
		helpers, out, _ := route(t, map[string]string{"slackChannel": "#security"}, invocation(issueEvent(is), false))
		if out["result"] != "routed" || len(helpers) != 1 {
			t.Errorf("%s: output %v, helpers %q; want it routed to one helper (is the title in 1.0-route-event.yaml's list?)", d.Title, out, helpers)
		}
	}
}

// TestRoutingNeverActsOnServiceAccounts sends every service-account title
// of every product, with and without notification helpers: none reaches a
// password reset, a suspend, a disable or a deactivate; with a Slack
// channel and a Jira project they reach 5.1 and 5.2, without them none.
func TestRoutingNeverActsOnServiceAccounts(t *testing.T) {
	titles := []string{"Old Password - Service Account", "Old Password - Admin Service Account",
		"Old Password - Global Admin Service Account", "Unused Service Account", "Unused Global Admin Service Account"}
	for _, d := range detect.Catalog() {
		if strings.Contains(d.Title, "Service Account") && !slices.Contains(titles, d.Title) {
			titles = append(titles, d.Title) // a tier added to the catalog later
		}
	}
	notifiers := map[string]string{"slackChannel": "#security", "jiraProject": "SEC"}
	for _, product := range []string{"Okta", "AAD", "Google Workspace", "Salesforce.com", "AWS"} {
		for _, title := range titles {
			is := issue(product, title, "00u00000000000000001", "svc-backup@example.com")
			helpers, out, _ := route(t, notifiers, invocation(issueEvent(is), false))
			if !slices.Equal(helpers, []string{"5.1 Notify Slack channel", "5.2 Create Jira issue"}) || out["result"] != "routed" {
				t.Errorf("%s %q with notifiers: started %q (%v)", product, title, helpers, out)
			}
			helpers, _, results := route(t, nil, invocation(issueEvent(is), false))
			if len(helpers) != 0 || !slices.Equal(results, []string{serviceNotNotified}) {
				t.Errorf("%s %q without notifiers: started %q, results %q", product, title, helpers, results)
			}
		}
	}
}
