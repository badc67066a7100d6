package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// TestDemo runs the demo as "vigil demo" does and checks what a newcomer
// is promised: every issue title open, each issue's event delivered to the
// routing flow, every execution ended without a fault, a remediation's
// dry-run request in the history, and a sign-in that works. Setting it up
// again keeps what exists and only changes the password.
func TestDemo(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		var d *app.Demo
		r := start(t, dialect, func(ctx context.Context, srv *app.Server) {
			var err error
			if d, err = srv.SetUpDemo(ctx); err != nil {
				t.Fatal(err)
			}
		})
		if !d.Created || d.User != app.DemoUser || d.Password == "" || !strings.HasPrefix(d.InvokeURL, r.url+"/api/flo/") {
			t.Fatalf("demo %+v", d)
		}
		ctx := context.Background()
		svc := r.srv.Services()

		awaitDemo(t, svc)
		// The helpers that suspend or expire a password wait for approval;
		// the demo user approves them all, as on the console's Approvals
		// page, and they go on.
		if n := approvePending(t, svc); n == 0 {
			t.Error("no remediation asked for approval")
		}
		counts, dels, execs := awaitDemo(t, svc)
		for _, det := range detect.Catalog() {
			if counts.ByTitle[det.Title] == 0 {
				t.Errorf("no open issue titled %q", det.Title)
			}
		}
		routed, dry := 0, false
		for _, x := range execs {
			if x.Status != "succeeded" {
				t.Errorf("execution %s of %s ended %s: %v", x.ID, x.FlowTitle, x.Status, x.Error)
			}
			if x.FlowTitle == "1.0 ISPM Event Routing Flow" {
				routed++
			}
			if x.FlowTitle == "2.2 Suspend Okta User" && !dry {
				h, err := svc.Flows.Execution(ctx, x.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range h.Notes {
					if strings.Contains(n.Message, "/lifecycle/suspend") && strings.Contains(strings.ToLower(n.Kind+n.Message), "dry") {
						dry = true
					}
				}
			}
		}
		if routed != len(dels) {
			t.Errorf("%d routing flow executions for %d deliveries; want one each", routed, len(dels))
		}
		if !dry {
			t.Error("no Okta suspension shows the request its dry-run connection would have sent")
		}

		// The printed sign-in works.
		if code := signIn(t, r.url, d.User, d.Password); code != http.StatusSeeOther {
			t.Errorf("signing in as the demo user: %d; want 303", code)
		}

		// Again: nothing new is made; the old password stops working.
		again, err := r.srv.SetUpDemo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again.Created || again.Folder != d.Folder || again.InvokeURL != d.InvokeURL || again.Password == d.Password {
			t.Errorf("second set-up %+v after %+v: want the same folder and URL, a new password", again, d)
		}
		folders, err := svc.Flows.Folders(ctx)
		if err != nil || len(folders) != 1 {
			t.Errorf("folders after a second set-up: %d, %v; want 1", len(folders), err)
		}
		if code := signIn(t, r.url, d.User, d.Password); code == http.StatusSeeOther {
			t.Error("the first password still signs in")
		}
		if strings.Contains(r.logs.String(), d.Password) || strings.Contains(r.logs.String(), again.Password) {
			t.Error("the demo password reached the log")
		}
	})
}

// awaitDemo waits until the demo's scan has opened its issues, each issue's
// event has been delivered and every execution it started has ended, and
// returns what it found.
func awaitDemo(t *testing.T, svc *app.Services) (issue.Counts, []*hooks.Delivery, []*flows.Execution) {
	t.Helper()
	ctx := context.Background()
	var counts issue.Counts
	var dels []*hooks.Delivery
	var execs []*flows.Execution
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var err error
		if counts, err = svc.Issues.Counts(ctx, issue.Filter{}); err != nil {
			t.Fatal(err)
		}
		if dels, err = svc.Hooks.Deliveries(ctx, hooks.DeliveryFilter{Limit: 1000}); err != nil {
			t.Fatal(err)
		}
		if execs, err = svc.Flows.Executions(ctx, flows.ExecutionFilter{Limit: 1000}); err != nil {
			t.Fatal(err)
		}
		if counts.Open > 0 && len(dels) == counts.Open && delivered(dels) && ended(execs) && len(execs) > len(dels) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 minutes: %d open issues, %d deliveries (all delivered: %v), %d executions (all ended: %v)",
				counts.Open, len(dels), delivered(dels), len(execs), ended(execs))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return counts, dels, execs
}

func delivered(ds []*hooks.Delivery) bool {
	for _, d := range ds {
		if d.Status != hooks.StatusDelivered {
			return false
		}
	}
	return true
}

func ended(xs []*flows.Execution) bool {
	for _, x := range xs {
		if x.Status == "pending" || x.Status == "running" {
			return false
		}
	}
	return len(xs) > 0
}

// approvePending approves every pending approval request as the demo
// user and returns how many there were.
func approvePending(t *testing.T, svc *app.Services) int {
	t.Helper()
	ctx := context.Background()
	list, err := svc.Flows.Approvals(ctx, flows.ApprovalFilter{Status: flows.ApprovalPending, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if _, err := svc.Flows.Decide(ctx, a.ID, flows.Decision{Approve: true, User: app.DemoUser, Role: "super_admin"}); err != nil {
			t.Fatalf("approve %s: %v", a.ID, err)
		}
	}
	return len(list)
}

// signIn posts the console's sign-in form and returns the status.
func signIn(t *testing.T, base, user, password string) int {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
