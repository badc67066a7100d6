package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestPublicURLSavedByServe checks that the public URL 'vigil serve
// --public-url' was given is stored in the database, so that management
// commands on that database use it with no flag: the link in 'vigil hooks
// test's sample event, the links in the events of a 'vigil scan', and the
// invoke URL 'vigil flows endpoint' prints.
func TestPublicURLSavedByServe(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testPublicURLSavedByServe(t, dialect) })
	}
}

func testPublicURLSavedByServe(t *testing.T, dialect string) {
	const public = "https://vigil.example.test"
	ctx := context.Background()
	t.Setenv("VIGIL_MASTER_KEY", "")
	t.Setenv("VIGIL_PUBLIC_URL", "")
	e := &e2e{t: t, dir: t.TempDir(), database: storetest.DatabaseURL(t, dialect)}

	var mu sync.Mutex
	var events []map[string]any
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &ev) == nil {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	links := func(typ string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, ev := range events {
			if d, ok := ev["eventData"].(map[string]any); ok && ev["type"] == typ {
				out = append(out, d["link"].(string))
			}
		}
		return out
	}

	fake := oktatest.New(t)
	fake.AddUser(oktatest.User{Login: "cy@example.com"}) // no factor: No MFA - Account
	t.Setenv("VIGIL_TEST_OKTA_TOKEN", fake.Token())

	e.serve(ctx, "--public-url", public)

	e.run("hooks", "add", "--name", "Receiver", "--url", receiver.URL)
	e.run("hooks", "test", "Receiver")
	if got := links("issue.created"); len(got) != 1 || !strings.HasPrefix(got[0], public+"/ispm/issues/") {
		t.Errorf("hooks test sent the links %q; want one under %s", got, public)
	}

	e.run("templates", "add", "identity-security-posture-management", "--folder", "ISPM")
	var ep struct {
		InvokeURL string `json:"invokeUrl"`
	}
	if err := json.Unmarshal([]byte(e.run("flows", "endpoint", "1.0 ISPM Event Routing Flow", "--json")), &ep); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep.InvokeURL, public+"/api/flo/") {
		t.Errorf("flows endpoint printed %s; want an invoke URL under %s", ep.InvokeURL, public)
	}

	e.run("hooks", "automate", "Receiver", "--all-titles", "--auto-send", "on")
	e.run("sources", "add", "okta", "--name", "okta", "--url", fake.URL, "--token-env", "VIGIL_TEST_OKTA_TOKEN")
	e.run("scan")
	// The running server delivers the scan's events; wait for them (the
	// deadline only stops a broken build from hanging).
	var got []string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if got = links("issue.created"); len(got) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 minutes the receiver got the links %q; want the scan's events", got)
		}
	}
	for _, l := range got {
		if !strings.HasPrefix(l, public+"/ispm/issues/iss_") {
			t.Errorf("an event of the scan links to %s; want a link under %s", l, public)
		}
	}
}
