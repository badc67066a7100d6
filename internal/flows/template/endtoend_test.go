package template_test

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
)

// TestRoutingToOkta runs the routing flow with the real helpers against a
// fake Okta: the test event changes nothing, and the two issues end as
// exactly one suspend and one group membership.
func TestRoutingToOkta(t *testing.T) {
	e := newEnv(t, map[string]string{"oktaMfaGroupId": oktaGroupID})
	ok := oktatest.New(t)
	ok.SetClock(func() time.Time { return testNow })
	unused := ok.AddUser(oktatest.User{Login: "ali.lesch@example.com"})
	noMFA := ok.AddUser(oktatest.User{Login: "bo.admin@example.com"})
	ok.AddGroup(oktatest.Group{ID: oktaGroupID, Name: "MFA required"})
	e.addConnection(t, "Okta", "okta", map[string]string{"url": ok.URL, "token": oktatest.DefaultToken})

	sample := event.Sample("11111111-2f1d-4a8e-9b0c-6f1e2d3c4b5a", testNow, "https://vigil.example.com")
	res, fault, _ := e.run(t, "1.0 ISPM Event Routing Flow", invocation(sample, true))
	if fault != nil || len(res.Children) != 0 || len(ok.Requests()) != 0 {
		t.Fatalf("test event: fault %v, %d helpers, %d Okta requests; want none", fault, len(res.Children), len(ok.Requests()))
	}

	for _, is := range []event.Issue{
		issue("Okta", "Unused Admin Account", unused.ID, unused.Login),
		issue("Okta", "No MFA - Admin Account", noMFA.ID, noMFA.Login),
	} {
		res, fault, _ := e.run(t, "1.0 ISPM Event Routing Flow", invocation(issueEvent(is), false))
		if fault != nil {
			t.Fatal(fault)
		}
		for _, c := range res.Children {
			if c.Fault != nil || c.Err != nil {
				t.Errorf("%s: helper %s failed: %v %v", is.Title, c.Flow, c.Fault, c.Err)
			}
		}
	}
	got := ok.Calls()
	want := []string{"POST /api/v1/users/" + unused.ID + "/lifecycle/suspend", "PUT /api/v1/groups/" + oktaGroupID + "/users/" + noMFA.ID}
	if !slices.Equal(got, want) {
		t.Errorf("Okta received %q, want exactly %q", got, want)
	}
	rows := e.tableRows("ISPM Events")
	if len(rows) != 2 || rows[0]["Title"] != "Unused Admin Account" || rows[1]["Title"] != "No MFA - Admin Account" {
		t.Errorf("ISPM Events rows %v", rows)
	}
}
