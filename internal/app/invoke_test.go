package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestInvokeThroughServer calls the demo's routing flow through the whole
// server with its log at debug level: wrong and missing client tokens (in
// the URL and in the header) are refused without a single execution row,
// a right one starts exactly one, and the token never reaches the log.
func TestInvokeThroughServer(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		var d *app.Demo
		r := startNode(t, storetest.DatabaseURL(t, dialect), "", func(ctx context.Context, srv *app.Server) {
			var err error
			if d, err = srv.SetUpDemo(ctx); err != nil {
				t.Fatal(err)
			}
		}, func(c *app.Config) { c.LogLevel = "debug" })
		ctx := context.Background()
		svc := r.srv.Services()
		routing, err := svc.Flows.FindFlow(ctx, "1.0 ISPM Event Routing Flow", d.Folder)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := svc.Endpoints.Ensure(ctx, routing.ID)
		if err != nil {
			t.Fatal(err)
		}
		token, err := svc.Endpoints.Token(ep)
		if err != nil {
			t.Fatal(err)
		}

		// Let the demo's own scan, deliveries and executions finish first.
		awaitDemo(t, svc)
		count := func() int {
			xs, err := svc.Flows.Executions(ctx, flows.ExecutionFilter{FlowID: routing.ID, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(xs)
		}
		settled := count()

		post := func(rawURL string, header http.Header) int {
			req, _ := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(`{"eventType":"test"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Prefer", "respond-async")
			for k, v := range header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		last := "A"
		if strings.HasSuffix(token, "A") {
			last = "B"
		}
		wrong := token[:len(token)-1] + last // the same length, one character off
		for _, tc := range []struct {
			name   string
			url    string
			header http.Header
		}{
			{"no token", d.InvokeURL, nil},
			{"wrong token in the URL", d.InvokeURL + "?clientToken=" + url.QueryEscape(wrong), nil},
			{"wrong token in the header", d.InvokeURL, http.Header{"X-Api-Client-Token": {wrong}}},
			{"token of another length", d.InvokeURL + "?clientToken=short", nil},
		} {
			if code := post(tc.url, tc.header); code != http.StatusUnauthorized {
				t.Errorf("%s: %d; want 401", tc.name, code)
			}
		}
		if n := count(); n != settled {
			t.Fatalf("refused calls made %d executions; want none", n-settled)
		}
		if code := post(d.InvokeURL+"?clientToken="+url.QueryEscape(token), nil); code != http.StatusAccepted {
			t.Fatalf("the right token: %d; want 202", code)
		}
		if n := count(); n != settled+1 {
			t.Errorf("the right token made %d executions; want 1", n-settled)
		}
		logs := r.logs.String()
		if !strings.Contains(logs, "level=DEBUG") {
			t.Fatal("the server logged nothing at debug level; the check below would prove nothing")
		}
		if strings.Contains(logs, token) || strings.Contains(logs, url.QueryEscape(token)) {
			t.Error("the client token reached the log")
		}

		// A rotation through the server's Endpoints, the one the API and
		// the console rotate with, applies to the very next call although
		// the endpoint row was just looked up and is cached: the invoke
		// handler shares it.
		fresh, err := svc.Endpoints.Rotate(ctx, routing.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if code := post(d.InvokeURL, http.Header{"X-Api-Client-Token": {token}}); code != http.StatusUnauthorized {
			t.Errorf("the rotated-out token right after the rotation: %d; want 401", code)
		}
		if code := post(d.InvokeURL, http.Header{"X-Api-Client-Token": {fresh}}); code != http.StatusAccepted {
			t.Errorf("the new token right after the rotation: %d; want 202", code)
		}
	})
}
