package connector_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/entra/entratest"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
)

// checkFault checks that a run failed at once with a communication fault of
// that status and detail, without waiting for a retry and without showing
// any of the secrets.
func checkFault(t *testing.T, b *bundle, r result, code int, detail string, secrets ...string) {
	t.Helper()
	f := r.fault
	if f == nil {
		t.Fatalf("no fault, output %v", r.out)
	}
	if f.Type != engine.ErrCommunication || f.Status != code || f.Detail != detail {
		t.Errorf("fault %d %s %q, want %d %s %q", f.Status, f.Type, f.Detail, code, engine.ErrCommunication, detail)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(f.Detail+f.Title, s) {
			t.Errorf("the fault shows a secret: %q", f.Detail)
		}
	}
	if n := b.sleeps.count(); n != 0 {
		t.Errorf("waited %d times, want no retry", n)
	}
}

// TestEntraActionsFetchAFreshTokenOnceAfter401 covers Graph refusing the
// bearer token (it expired, or was revoked, between the token request and
// the call): the client drops the token, fetches one fresh token and sends
// the request again at once. A second 401 fails the action with Graph's
// message, however often Graph would go on refusing, and no token or secret
// shows in the fault.
func TestEntraActionsFetchAFreshTokenOnceAfter401(t *testing.T) {
	actions := []struct {
		fn   string
		args map[string]any // besides connection
		sent string         // as graphSent writes it; {url} is the fake's URL
		op   string
		done func(en *entratest.Server) bool
	}{
		{
			fn: "entra.disableUser", args: map[string]any{"user": entraUser},
			sent: "PATCH /v1.0/users/" + entraUser + ` {"accountEnabled":false}`,
			op:   "disable user " + entraUser,
			done: func(en *entratest.Server) bool { u, _ := en.User(entraUser); return !u.AccountEnabled },
		},
		{
			fn: "entra.addGroupMember", args: map[string]any{"user": entraUser, "groupId": entraGroup},
			sent: "POST /v1.0/groups/" + entraGroup + `/members/$ref {"@odata.id":"{url}/v1.0/directoryObjects/` + entraUser + `"}`,
			op:   "add " + entraUser + " to group " + entraGroup,
			done: func(en *entratest.Server) bool { return slices.Contains(en.GroupMembers(entraGroup), entraUser) },
		},
	}
	refusals := []struct {
		name string
		n    int // the 401s Graph answers in a row
		ok   bool
	}{
		{"the fresh token is accepted", 1, true},
		{"Graph goes on refusing", 5, false},
	}
	for _, a := range actions {
		for _, rf := range refusals {
			t.Run(a.fn+"/"+rf.name, func(t *testing.T) {
				b, en := entraFixture(t)
				en.FailNext(rf.n, 401, "")
				args := map[string]any{"connection": "Microsoft Entra ID"}
				for k, v := range a.args {
					args[k] = v
				}
				r := b.run(t, a.fn, args, false)
				sent := strings.ReplaceAll(a.sent, "{url}", en.URL)
				if got := graphSent(en); !slices.Equal(got, []string{sent, sent}) {
					t.Errorf("Graph requests %q, want the request twice (the 401, then one retry)", got)
				}
				toks := graphAuth(t, en)
				if len(toks) == 2 && toks[0] == toks[1] {
					t.Error("the retry sent the refused token again")
				}
				if n := len(en.Requests()) - len(en.GraphRequests()); n != 2 {
					t.Errorf("%d token requests, want 2 (the first token, then one fresh one)", n)
				}
				if rf.ok {
					if r.fault != nil {
						t.Fatalf("fault: %v", r.fault)
					}
					if r.out["userId"] != entraUser || r.out["dryRun"] != false {
						t.Errorf("output %v", r.out)
					}
					if !a.done(en) {
						t.Error("the change was not made")
					}
					return
				}
				detail := a.fn + ` through connection "Microsoft Entra ID" failed: ` + a.op +
					`: Microsoft Graph answered 401 InvalidAuthenticationToken: Access token has expired or is not yet valid`
				checkFault(t, b, r, 401, detail, append(toks, entratest.ClientSecret)...)
				if a.done(en) {
					t.Error("the change was made all the same")
				}
			})
		}
	}
}

// TestGoogleSuspendUser403 covers Google's two kinds of 403: a subject who
// is not an admin is refused for good, so the action fails at once with
// Google's reason and message; a per-user quota is retried after a backoff,
// as Google asks.
func TestGoogleSuspendUser403(t *testing.T) {
	const put = `PUT /admin/directory/v1/users/ali@example.com {"suspended":true}`
	t.Run("subject is not an admin", func(t *testing.T) {
		b, gw := googleFixture(t)
		b.add(t, "Google as Ali", "google", false, map[string]string{"serviceAccountKey": string(gw.ServiceAccountJSON()),
			"subject": "ali@example.com", "baseUrl": gw.URL})
		r := b.run(t, "google.suspendUser", map[string]any{"connection": "Google as Ali", "user": "ali@example.com"}, false)
		got, toks := sentAndTokens(gw.APIRequests())
		checkFault(t, b, r, 403, `google.suspendUser through connection "Google as Ali" failed: suspend user ali@example.com: `+
			`Google answered 403 forbidden: Not Authorized to access this resource/api`, append(toks, "PRIVATE KEY")...)
		if !slices.Equal(got, []string{put}) {
			t.Errorf("requests %q, want the PUT once (no retry)", got)
		}
		if u, _ := gw.User("ali@example.com"); u.Suspended {
			t.Error("the user was suspended all the same")
		}
	})
	t.Run("per-user quota", func(t *testing.T) {
		b, gw := googleFixture(t)
		gw.FailNext(1, 403, "")
		r := b.run(t, "google.suspendUser", map[string]any{"connection": "Google Workspace", "user": "ali@example.com"}, false)
		if r.fault != nil {
			t.Fatal(r.fault)
		}
		if got, _ := sentAndTokens(gw.APIRequests()); !slices.Equal(got, []string{put, put}) {
			t.Errorf("requests %q, want the PUT twice (the 403, then one retry)", got)
		}
		if n := b.sleeps.count(); n != 1 {
			t.Errorf("waited %d times, want 1", n)
		}
		if u, _ := gw.User("ali@example.com"); !u.Suspended {
			t.Error("the user is not suspended")
		}
	})
}

// recorded is a request as googletest and salesforcetest (and entratest)
// record it.
type recorded = struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// sentAndTokens returns "METHOD path body" and the bearer token of each
// request a fake recorded.
func sentAndTokens[R ~recorded](reqs []R) (sent, tokens []string) {
	for _, req := range reqs {
		r := recorded(req)
		sent = append(sent, r.Method+" "+r.Path+" "+string(r.Body))
		tokens = append(tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}
	return sent, tokens
}

// TestSalesforceDeactivateUser403 covers Salesforce's 403s: an integration
// user who may not use the API, and the org's daily API limit, which lasts
// until the next day. Neither passes within a flow's run, so the action
// fails at once with Salesforce's errorCode and message.
func TestSalesforceDeactivateUser403(t *testing.T) {
	tests := []struct {
		name   string
		fail   func(sf *salesforcetest.Server)
		detail string
	}{
		{
			name: "API not enabled for the integration user",
			fail: func(sf *salesforcetest.Server) {
				sf.FailNextWith(1, 403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner")
			},
			detail: "Salesforce answered 403 API_DISABLED_FOR_ORG: API is not enabled for this Organization or Partner",
		},
		{
			name:   "daily API limit reached",
			fail:   func(sf *salesforcetest.Server) { sf.FailNext(1, 403, "") },
			detail: "Salesforce answered 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			sf := salesforcetest.New(t)
			sf.AddUser(salesforcetest.User{ID: sfUser, Username: "ali@acme.example", IsActive: true})
			b.add(t, "Salesforce", "salesforce", false, map[string]string{"instanceUrl": sf.URL,
				"clientId": salesforcetest.ClientID, "clientSecret": salesforcetest.ClientSecret})
			tt.fail(sf)
			r := b.run(t, "salesforce.deactivateUser", map[string]any{"connection": "Salesforce", "user": sfUser}, false)
			got, toks := sentAndTokens(sf.APIRequests())
			checkFault(t, b, r, 403, `salesforce.deactivateUser through connection "Salesforce" failed: deactivate user `+sfUser+": "+tt.detail,
				append(toks, salesforcetest.ClientSecret)...)
			if want := []string{"PATCH /services/data/v62.0/sobjects/User/" + sfUser + ` {"IsActive":false}`}; !slices.Equal(got, want) {
				t.Errorf("requests %q, want %q (no retry)", got, want)
			}
			if u, _ := sf.User(sfUser); !u.IsActive {
				t.Error("the user was deactivated all the same")
			}
		})
	}
}
