package hooks

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// echo answers 401 with a page that repeats the request line and headers,
// as many receivers' error pages do, and records whether the client asked
// to close the connection after the answer.
func echo(closed *[]bool) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, r *http.Request) {
		*closed = append(*closed, r.Close)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "<h1>401</h1><p>POST %s</p><p>raw query %s</p><pre>", r.URL.RequestURI(), r.URL.RawQuery)
		for k, v := range r.Header {
			fmt.Fprintf(w, "%s: %s\n", k, strings.Join(v, ","))
		}
		fmt.Fprint(w, "</pre>")
	}
}

// TestResponseSecretsMasked checks that a receiver echoing the request puts
// none of the request's secrets into the delivery log: the API keys (query
// and header, raw and escaped) and the address's own token are masked
// before the answer is stored, and on SQLite no copy is anywhere in the
// database files. It also checks that the request asks to close the
// connection, so Go's client never quotes later bytes from the receiver in
// an "Unsolicited response" log line.
func TestResponseSecretsMasked(t *testing.T) {
	param := "tok/+= 1-" + strings.Repeat("p", 12)
	header := "hdr-" + strings.Repeat("h", 20)
	inURL := "urltoken-" + strings.Repeat("u", 16)
	check := func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var closed []bool
		rc := newReceiver(t, echo(&closed))
		b := setup(t, st)
		b.addHook(t, "echo", rc.URL+"/hook?auth="+inURL,
			Key{Name: "clientToken", Placement: PlaceParam, Value: param},
			Key{Name: "X-Api-Key", Placement: PlaceHeader, Value: header})
		b.publish(t, sampleEvent())
		b.runJobs(t)
		if len(rc.requests()) != 1 {
			t.Fatalf("%d requests reached the receiver, want 1", len(rc.requests()))
		}
		atts, err := st.HookAttempts(ctx, b.only(t).ID)
		if err != nil || len(atts) != 1 {
			t.Fatalf("attempts %v, %v", atts, err)
		}
		body := string(atts[0].Response)
		for _, s := range []string{param, url.QueryEscape(param), url.PathEscape(param), header, inURL} {
			if strings.Contains(body, s) {
				t.Errorf("the stored response holds the secret %q:\n%s", s, body)
			}
		}
		if !strings.Contains(body, Redacted) || !strings.Contains(body, "<h1>401</h1>") {
			t.Errorf("the stored response should keep the page with the secrets masked:\n%s", body)
		}
		// The request kept for the delivery page masks the same secrets
		// and keeps the rest.
		req := atts[0].Request
		for _, s := range []string{param, url.QueryEscape(param), url.PathEscape(param), header, inURL} {
			if strings.Contains(req, s) {
				t.Errorf("the stored request holds the secret %q:\n%s", s, req)
			}
		}
		for _, s := range []string{`"method":"POST"`, `/hook?auth=` + Redacted, `clientToken=` + Redacted, `"X-Api-Key":"` + Redacted + `"`, `"Webhook-Id":`} {
			if !strings.Contains(req, s) {
				t.Errorf("the stored request lacks %q:\n%s", s, req)
			}
		}
		d, err := b.svc.Delivery(ctx, b.only(t).ID)
		if err != nil || len(d.AttemptLog) != 1 || d.AttemptLog[0].Request == nil || !strings.Contains(d.Payload, `"eventData"`) {
			t.Errorf("the delivery shows request %+v and payload %.80q, %v", d.AttemptLog, d.Payload, err)
		}
		if len(closed) != 1 || !closed[0] {
			t.Errorf("the delivery asked to close its connection: %v; want true", closed)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		st, err := store.Open(context.Background(), store.Config{URL: "sqlite://" + filepath.Join(dir, "vigil.db")})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t, st)
		st.Close()
		files, _ := filepath.Glob(filepath.Join(dir, "vigil.db*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// (The address's own token is saved in the address, as typed.)
			for _, s := range []string{param, url.QueryEscape(param), header} {
				if n := bytes.Count(data, []byte(s)); n > 0 {
					t.Errorf("%s holds %d copies of the secret %q", filepath.Base(f), n, s)
				}
			}
		}
	})
	t.Run("postgres", func(t *testing.T) { check(t, storetest.Postgres(t)) })
}
