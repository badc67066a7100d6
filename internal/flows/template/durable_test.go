package template_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector/connectortest"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/queue/queuetest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestTemplateRunsDurably adds the template to the flows service, connects
// Okta, turns the routing flow and the Okta helpers on, and runs events
// through durable executions on both databases: the test event starts no
// helper, the two issues end as one suspend and one group membership, and
// ISPM Events holds one row for each.
func TestTemplateRunsDurably(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		env := connectortest.NewFlows(t, st)
		svc, conns := env.Service, env.Conns
		workers := river.NewWorkers()
		svc.Register(workers)
		q, err := queue.New(st, queue.Config{Workers: workers, FetchPollInterval: 20 * time.Millisecond,
			Queues: map[string]int{river.QueueDefault: 4}})
		if err != nil {
			t.Fatal(err)
		}
		svc.SetQueue(q)
		queuetest.Start(t, q)

		ok := oktatest.New(t)
		unused := ok.AddUser(oktatest.User{Login: "ali.lesch@example.com"})
		noMFA := ok.AddUser(oktatest.User{Login: "bo.admin@example.com"})
		ok.AddGroup(oktatest.Group{ID: oktaGroupID, Name: "MFA required"})
		if _, err := conns.Create(ctx, connection.Input{Name: "Okta", Kind: "okta",
			Fields: map[string]string{"url": ok.URL, "token": oktatest.DefaultToken}}); err != nil {
			t.Fatal(err)
		}
		c, _ := template.Load()
		added, err := c.Add(ctx, template.FlowsInstaller{Flows: svc}, ispm, "", map[string]string{"oktaMfaGroupId": oktaGroupID})
		if err != nil {
			t.Fatal(err)
		}
		folder, _ := svc.Folder(ctx, added.Folder)
		var routing string
		for _, title := range []string{"2.2 Suspend Okta User", "3.2 Okta - Add user to a group", "1.0 ISPM Event Routing Flow"} {
			f, err := svc.FindFlow(ctx, title, added.Folder)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SetOn(ctx, f.ID, true); err != nil {
				t.Fatal(err)
			}
			routing = f.ID
		}

		run := func(ev event.Event, test bool) *flows.Execution {
			t.Helper()
			id, err := svc.Start(ctx, routing, invocation(ev, test), flows.StartOptions{Test: test})
			if err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			ex, err := svc.Wait(wctx, id)
			if err != nil {
				t.Fatal(err)
			}
			h, err := svc.Execution(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, child := range h.Children {
				approveWhenAsked(t, svc, child.ID)
				cx, err := svc.Wait(wctx, child.ID)
				if err != nil || cx.Status != flows.StatusSucceeded {
					t.Errorf("helper %s: %s %v %v", cx.FlowTitle, cx.Status, cx.Error, err)
				}
			}
			return ex
		}
		ex := run(event.Sample("11111111-2f1d-4a8e-9b0c-6f1e2d3c4b5a", testNow, "https://vigil.example.com"), true)
		if ex.Status != flows.StatusSucceeded || ex.Result != "test event: recorded, no helper flow called" || !ex.Test {
			t.Errorf("test event: %+v", ex)
		}
		ex = run(issueEvent(issue("Okta", "Unused Admin Account", unused.ID, unused.Login)), false)
		if ex.Result != "routed to 2.2 Suspend Okta User" {
			t.Errorf("unused admin: result %q, error %v", ex.Result, ex.Error)
		}
		ex = run(issueEvent(issue("Okta", "No MFA - Admin Account", noMFA.ID, noMFA.Login)), false)
		if ex.Result != "routed to 3.2 Okta - Add user to a group" {
			t.Errorf("no MFA: result %q, error %v", ex.Result, ex.Error)
		}
		ex = run(issueEvent(issue("Workday", "Unused Admin Account", "w1", "w1")), false)
		if ex.Status != flows.StatusSucceeded || ex.Result != "no matching route" {
			t.Errorf("unknown product: %s %q %v", ex.Status, ex.Result, ex.Error)
		}

		got := ok.Calls()
		want := []string{"POST /api/v1/users/" + unused.ID + "/lifecycle/suspend", "PUT /api/v1/groups/" + oktaGroupID + "/users/" + noMFA.ID}
		if !slices.Equal(got, want) {
			t.Errorf("Okta received %q, want exactly %q", got, want)
		}
		table, err := svc.Table(ctx, folder.ID, "ISPM Events")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := svc.TableRows(ctx, table.ID, catalog.Query{})
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		for _, r := range rows {
			titles = append(titles, r["Title"].(string))
		}
		slices.Sort(titles)
		if !slices.Equal(titles, []string{"No MFA - Admin Account", "Unused Admin Account"}) {
			t.Errorf("ISPM Events rows %v", rows)
		}
	})
}

// approveWhenAsked waits until a helper's execution ends or waits for
// approval, and approves the request as a workflows admin: the template's
// destructive helpers ask before acting.
func approveWhenAsked(t *testing.T, svc *flows.Service, execID string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute) // a safety net only
	for {
		h, err := svc.Execution(ctx, execID)
		if err != nil {
			t.Fatal(err)
		}
		if h.Execution.Done() {
			return
		}
		if h.Execution.Status == flows.StatusWaiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper %s is still %s", execID, h.Execution.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	list, err := svc.Approvals(ctx, flows.ApprovalFilter{ExecutionID: execID, Status: flows.ApprovalPending})
	if err != nil || len(list) != 1 {
		t.Fatalf("approval requests of %s: %v, %v", execID, list, err)
	}
	a := list[0]
	if a.Action["function"] != "okta.suspendUser" || a.AffectedEntity["identifierInService"] != "ali.lesch@example.com" ||
		a.Issue["title"] != "Unused Admin Account" || !slices.Equal(a.Approvers, []string{"role:super_admin", "role:workflows_admin"}) {
		t.Errorf("approval request %+v", a)
	}
	if _, err := svc.Decide(ctx, a.ID, flows.Decision{Approve: true, User: "wanda", Role: "workflows_admin"}); err != nil {
		t.Fatal(err)
	}
}
