package template_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
)

// destructive tells whether a connector action suspends, deactivates,
// disables or expires a password: the actions that ask first.
func destructive(function string) bool {
	_, action, _ := strings.Cut(function, ".")
	for _, verb := range []string{"suspend", "deactivate", "disable", "expirePassword"} {
		if strings.HasPrefix(action, verb) {
			return true
		}
	}
	return false
}

// calls lists the functions a flow's document calls, in document order.
func calls(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if f, ok := v["call"].(string); ok {
			*out = append(*out, f)
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			calls(v[k], out)
		}
	case []any:
		for _, item := range v {
			calls(item, out)
		}
	}
}

// writes counts the requests that change something at the vendors (token
// requests aside).
func (f *fakes) writes() int {
	n := 0
	count := func(method, path string) {
		if method != "GET" && !strings.Contains(path, "token") {
			n++
		}
	}
	for _, r := range f.okta.Requests() {
		count(r.Method, r.Path)
	}
	for _, r := range f.entra.Requests() {
		count(r.Method, r.Path)
	}
	for _, r := range f.google.Requests() {
		count(r.Method, r.Path)
	}
	for _, r := range f.salesforce.Requests() {
		count(r.Method, r.Path)
	}
	return n
}

// TestDestructiveHelpersAskFirst walks every flow of the template: each
// one that suspends, deactivates, disables or expires a password asks for
// approval (super admins and workflows admins) before the action; a denial
// or an expiry ends it without calling the vendor, logged in ISPM Events
// and Error Logging; requireApproval false acts without asking. Flows that
// change nothing destructive never ask.
func TestDestructiveHelpersAskFirst(t *testing.T) {
	ids := map[string]string{"2.1 Disable Entra ID User": entraUserID, "2.3 Suspend Google Workspace User": googleUserID,
		"2.4 Deactivate Salesforce User": sfUserID}
	products := map[string]string{"2.1 Disable Entra ID User": "AAD", "2.2 Suspend Okta User": "Okta",
		"2.3 Suspend Google Workspace User": "Google Workspace", "2.4 Deactivate Salesforce User": "Salesforce.com",
		"4.1 Okta - Reset User Password Upon Next Login": "Okta"}
	var asking []string
	for title, w := range newFlows(t, allVars, connector.New(connector.Config{})).flows {
		var fs []string
		calls(w.Definition["do"], &fs)
		i := slices.IndexFunc(fs, destructive)
		if i < 0 {
			if slices.Contains(fs, "approval.request") {
				t.Errorf("%s asks for approval but changes nothing destructive", title)
			}
			continue
		}
		asking = append(asking, title)
		if j := slices.Index(fs, "approval.request"); j < 0 || j > i {
			t.Errorf("%s calls %s without asking for approval first (calls %q)", title, fs[i], fs)
		}
	}
	slices.Sort(asking)
	if want := []string{"2.1 Disable Entra ID User", "2.2 Suspend Okta User", "2.3 Suspend Google Workspace User",
		"2.4 Deactivate Salesforce User", "4.1 Okta - Reset User Password Upon Next Login"}; !slices.Equal(asking, want) {
		t.Fatalf("destructive helpers %q, want %q", asking, want)
	}

	for _, title := range asking {
		for _, tc := range []string{"approved", "denied", "expired", "approval off"} {
			t.Run(title+"/"+tc, func(t *testing.T) {
				e := newEnv(t, allVars)
				f := connectAll(t, e)
				id := ids[title]
				if id == "" {
					id = f.oktaUser.ID
				}
				issueTitle := "Unused Admin Account"
				if strings.HasPrefix(title, "4.1") {
					issueTitle = "Old Password - Admin Account"
				}
				is := issue(products[title], issueTitle, id, "ali.lesch@example.com")
				switch tc {
				case "denied":
					e.approvals.Decide = func(*catalog.ApprovalRequest) *catalog.ApprovalDecision {
						return &catalog.ApprovalDecision{Status: catalog.ApprovalDenied, DecidedBy: "bob", DecidedAt: testNow, Comment: "not now"}
					}
				case "expired":
					e.approvals.Decide = func(*catalog.ApprovalRequest) *catalog.ApprovalDecision {
						return &catalog.ApprovalDecision{Status: catalog.ApprovalExpired, DecidedAt: testNow}
					}
				case "approval off":
					w := e.flows[title]
					meta := w.Definition["document"].(map[string]any)["metadata"].(map[string]any)
					meta["ispm"] = map[string]any{"requireApproval": false}
				}
				res, fault, j := e.run(t, title, helperInput(is))
				if fault != nil {
					t.Fatalf("fault: %v", fault)
				}
				reqs := e.approvals.Requests()
				if tc == "approval off" {
					if len(reqs) != 0 {
						t.Errorf("asked %d times with approval off", len(reqs))
					}
				} else {
					if len(reqs) != 1 {
						t.Fatalf("asked %d times, want once", len(reqs))
					}
					r := reqs[0]
					action, _ := r.Details["action"].(map[string]any)
					var fs []string
					calls(e.flows[title].Definition["do"], &fs)
					if !slices.Equal(r.Approvers, catalog.DefaultApprovers) || r.ExpiresAfter != catalog.DefaultApprovalExpiry ||
						!strings.Contains(r.Message, "ali.lesch@example.com") || !strings.Contains(r.Message, issueTitle) ||
						action["function"] != fs[slices.IndexFunc(fs, destructive)] {
						t.Errorf("request %+v", r)
					}
					if ent, _ := r.Details["affectedEntity"].(map[string]any); ent["idInService"] != id {
						t.Errorf("request shows entity %v", r.Details["affectedEntity"])
					}
				}
				if rows := e.tableRows("ISPM Events"); len(rows) != 1 || rows[0]["Title"] != issueTitle {
					t.Errorf("ISPM Events rows %v", rows)
				}
				errs := e.tableRows("Error Logging")
				out, _ := res.Output.(map[string]any)
				switch tc {
				case "approved", "approval off":
					if f.writes() != 1 || len(errs) != 0 {
						t.Errorf("%d vendor writes, Error Logging %v; want the action once and no error", f.writes(), errs)
					}
				default:
					summary, msg := "Approval denied", "was not run: denied by bob (not now)"
					if tc == "expired" {
						summary, msg = "Approval expired", "was not run: no one decided before the approval request expired"
					}
					if f.writes() != 0 {
						t.Errorf("%d vendor writes after the approval was %s", f.writes(), tc)
					}
					if len(errs) != 1 || errs[0]["Error Summary"] != summary || !strings.Contains(errs[0]["Error Message"].(string), msg) ||
						errs[0]["Username"] != "ali.lesch@example.com" {
						t.Errorf("Error Logging rows %v", errs)
					}
					if out["approved"] != false || out["remediated"] != false || !slices.Equal(results(j), []string{"denied"}) {
						t.Errorf("output %v, results %q", out, results(j))
					}
				}
			})
		}
	}
}
