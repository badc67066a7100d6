package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestTestConnection(t *testing.T) {
	ok := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("y", 3000)))
	})
	failing := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"bad token"}`))
	})
	moved := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/x", http.StatusMovedPermanently)
	})
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	guarded := netguard.NewClient(netguard.Config{Allow: loopback, Resolver: fakeResolver{}})
	tests := []struct {
		name     string
		url      string
		client   *http.Client
		wantOK   bool
		wantKind string
		wantCode int
	}{
		{"ok", ok.URL + "/hook", guarded, true, "", 200},
		{"non-2xx", failing.URL, guarded, false, KindNon2xx, 401},
		{"redirect", moved.URL, guarded, false, KindRedirect, 301},
		{"refused", refused, guarded, false, KindConnectRefused, 0},
		{"timeout", slow.URL, guarded, false, KindTimeout, 0},
		{"tls", tlsSrv.URL, guarded, false, KindTLS, 0},
		{"dns", "https://nowhere.example/hook", guarded, false, KindDNS, 0},
		{"ssrf blocked", strings.Replace(ok.URL, "http:", "https:", 1), netguard.NewClient(netguard.Config{}), false, KindSSRFBlocked, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Only the receiver that never answers may run into the
			// request timeout; every other case gets a timeout far beyond
			// what a busy machine needs, so a slow TLS handshake still
			// reports "tls" rather than "timeout".
			timeout := 2 * time.Minute
			if tt.wantKind == KindTimeout {
				timeout = 300 * time.Millisecond
			}
			s := New(nil, nil, Config{Client: tt.client, Allow: loopback, RequestTimeout: timeout, PublicURL: "https://vigil.example.com"})
			res, err := s.Test(context.Background(), "", Input{Name: "unsaved", URL: tt.url,
				Keys: []Key{{Name: "clientToken", Placement: PlaceParam, Value: "abc"}}})
			if err != nil {
				t.Fatalf("Test = %v", err)
			}
			if res.OK != tt.wantOK || res.ErrorKind != tt.wantKind || res.StatusCode != tt.wantCode {
				t.Fatalf("Test = ok %v, kind %q, status %d (%s); want %v, %q, %d", res.OK, res.ErrorKind, res.StatusCode, res.Error, tt.wantOK, tt.wantKind, tt.wantCode)
			}
			if !tt.wantOK && (res.Error == "" || strings.Contains(res.Error, "abc")) {
				t.Errorf("error message %q is empty or shows the token", res.Error)
			}
			if res.Signed || res.EventID == "" {
				t.Errorf("unsaved test: signed %v, event %q", res.Signed, res.EventID)
			}
			if tt.name == "ok" {
				if len(res.ResponseBody) != DefaultTestResponse {
					t.Errorf("response body %d bytes, want the first %d", len(res.ResponseBody), DefaultTestResponse)
				}
				reqs := ok.requests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				got := reqs[0]
				if got.Header.Get("X-Vigil-Test") != "true" || got.Query != "clientToken=abc" || got.Header.Get("webhook-id") != res.EventID {
					t.Errorf("request headers %v, query %q", got.Header, got.Query)
				}
			}
			if tt.name == "non-2xx" && res.ResponseBody != `{"error":"bad token"}` {
				t.Errorf("response body %q", res.ResponseBody)
			}
		})
	}
}

func TestTestConnectionSendsTheSample(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		rc := newReceiver(t, nil)
		hook, whsec := b.addHook(t, "tested", rc.URL, Key{Name: "X-Token", Placement: PlaceHeader, Value: "saved-value"})
		res, err := b.svc.TestSaved(ctx, "tested")
		if err != nil || !res.OK || !res.Signed {
			t.Fatalf("TestSaved = %+v, %v", res, err)
		}
		// Editing: a form with the key left empty uses the saved value and
		// the saved secret, before anything is saved.
		res, err = b.svc.Test(ctx, hook.ID, Input{Name: "tested", URL: rc.URL + "/new", Keys: []Key{{Name: "X-Token", Placement: PlaceHeader}}})
		if err != nil || !res.OK || !res.Signed {
			t.Fatalf("Test of an edit = %+v, %v", res, err)
		}
		reqs := rc.requests()
		if len(reqs) != 2 || reqs[1].Path != "/new" {
			t.Fatalf("requests %+v", reqs)
		}
		for _, r := range reqs {
			var ev event.Event
			if err := json.Unmarshal(r.Body, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Type != event.TypeCreated || ev.EventData.Title != "Unused Admin Account" || ev.Source != event.Source ||
				ev.EventData.AffectedEntity.SourceProductName != "Okta" || !strings.HasPrefix(ev.EventData.Link, "https://vigil.example.com/") {
				t.Errorf("sample event %+v", ev)
			}
			if r.Header.Get("X-Token") != "saved-value" || r.Header.Get("X-Vigil-Test") != "true" {
				t.Errorf("headers %v", r.Header)
			}
			if err := verifySignature(whsec, r.Header, r.Body, b.clock.Now()); err != nil {
				t.Errorf("signature: %v", err)
			}
		}
		// Tests leave no delivery behind, and invalid input is an error.
		if ds, _ := b.svc.Deliveries(ctx, DeliveryFilter{}); len(ds) != 0 {
			t.Errorf("%d deliveries after tests", len(ds))
		}
		var inv *InvalidError
		if _, err := b.svc.Test(ctx, "", Input{Name: "x", URL: "http://example.com"}); !errors.As(err, &inv) {
			t.Errorf("Test of a non-https URL = %v", err)
		}
	})
}
