package vendorhttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

var errNotFound = errors.New("test: not found")

// answers serves the given statuses in turn (the last one for ever) and
// records the Authorization header of each request.
func answers(t *testing.T, statuses []int, header http.Header) (*httptest.Server, *[]string) {
	t.Helper()
	var auths []string
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		i := min(int(n.Add(1))-1, len(statuses)-1)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(statuses[i])
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &auths
}

var testVendor = vendorhttp.Vendor{Name: "test", Service: "Test", NotFound: errNotFound}

func client(clock *clocktest.Clock) *vendorhttp.Client {
	return &vendorhttp.Client{
		Vendor: &testVendor,
		HTTP:   netguard.NewClient(netguard.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}),
		Retry:  vendorfake.Retry(clock).WithDefaults(),
	}
}

func TestDoRetries(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		header    http.Header
		method    string
		wantErr   bool
		wantWaits string
	}{
		{"success", []int{200}, nil, http.MethodGet, false, "[]"},
		{"429 then success, Retry-After", []int{429, 200}, http.Header{"Retry-After": {"7"}}, http.MethodGet, false, "[7s]"},
		{"5xx backoff", []int{503, 502, 200}, nil, http.MethodPost, false, "[1s 2s]"},
		{"past the bound", []int{500}, nil, http.MethodGet, true, "[1s 2s 4s]"},
		{"Retry-After beyond MaxWait", []int{429}, http.Header{"Retry-After": {"3600"}}, http.MethodGet, true, "[]"},
		{"4xx is final", []int{404}, nil, http.MethodGet, true, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := answers(t, tt.statuses, tt.header)
			clock := clocktest.Still(time.Time{})
			_, err := client(clock).Do(context.Background(), vendorhttp.Request{Op: "get thing", Method: tt.method, URL: srv.URL})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := fmt.Sprint(clock.Waits()); got != tt.wantWaits {
				t.Errorf("waits = %s, want %s", got, tt.wantWaits)
			}
		})
	}
}

func TestJSONAsksForJSON(t *testing.T) {
	var accepts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepts = append(accepts, r.Header.Get("Accept"))
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	c := client(clocktest.Still(time.Time{}))
	var out struct{ OK bool }
	xml := http.Header{"Accept": {"application/xml"}}
	for _, h := range []http.Header{nil, xml} {
		if err := c.JSON(context.Background(), vendorhttp.Request{Op: "get thing", Method: http.MethodGet, URL: srv.URL, Header: h}, &out); err != nil || !out.OK {
			t.Fatalf("JSON: %v, %+v", err, out)
		}
	}
	if len(accepts) != 2 || accepts[0] != "application/json" || accepts[1] != "application/xml" || len(xml["Accept"]) != 1 {
		t.Errorf("Accept headers sent = %q; the request's own header = %q", accepts, xml["Accept"])
	}
}

func TestDoRefusal(t *testing.T) {
	srv, _ := answers(t, []int{404}, nil)
	_, err := client(clocktest.Still(time.Time{})).Do(context.Background(), vendorhttp.Request{Op: "get thing", Method: http.MethodGet, URL: srv.URL})
	var e *vendorhttp.Error
	if !errors.As(err, &e) || e.StatusCode != 404 || !errors.Is(err, errNotFound) || err.Error() != "test: get thing: Test answered 404: Not Found" {
		t.Fatalf("err = %v", err)
	}
}

func TestDoReauthorizesOnce(t *testing.T) {
	srv, auths := answers(t, []int{401, 401, 401}, nil)
	c := client(clocktest.Still(time.Time{}))
	n := 0
	c.Authorize = func(_ context.Context, r *http.Request) error {
		n++
		r.Header.Set("Authorization", fmt.Sprintf("Bearer t%d", n))
		return nil
	}
	resets := 0
	c.Reauthorize = func() bool { resets++; return true }
	_, err := c.Do(context.Background(), vendorhttp.Request{Op: "get", Method: http.MethodGet, URL: srv.URL})
	if err == nil || resets != 1 || strings.Join(*auths, ",") != "Bearer t1,Bearer t2" {
		t.Fatalf("err %v, %d resets, requests %v; want one fresh try", err, resets, *auths)
	}
}

func TestDoNetworkErrors(t *testing.T) {
	srv, _ := answers(t, []int{200}, nil)
	u := srv.URL
	srv.Close() // nothing listens there any more
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		clock := clocktest.Still(time.Time{})
		_, err := client(clock).Do(context.Background(), vendorhttp.Request{Op: "get", Method: method, URL: u + "/secret-path"})
		var ne *vendorhttp.NetError
		if !errors.As(err, &ne) || strings.Contains(err.Error(), "secret-path") || !strings.Contains(err.Error(), "could not reach Test") {
			t.Errorf("%s: err = %v", method, err)
		}
		want := 3
		if method == http.MethodPost {
			want = 0 // a post whose answer was lost may have done its work
		}
		if len(clock.Waits()) != want {
			t.Errorf("%s: waits %v, want %d", method, clock.Waits(), want)
		}
	}
	clock := clocktest.Still(time.Time{})
	c := client(clock)
	c.HTTP = netguard.NewClient(netguard.Config{})
	_, err := c.Do(context.Background(), vendorhttp.Request{Op: "get", Method: http.MethodGet, URL: "http://127.0.0.1:1/"})
	if !vendorhttp.Blocked(err) || len(clock.Waits()) != 0 {
		t.Errorf("blocked address: err %v, waits %v; want no retry", err, clock.Waits())
	}
}

func TestDoBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 100))
	}))
	defer srv.Close()
	c := client(clocktest.Still(time.Time{}))
	c.MaxBody = 99
	if _, err := c.Do(context.Background(), vendorhttp.Request{Op: "get", Method: http.MethodGet, URL: srv.URL}); err == nil ||
		!strings.Contains(err.Error(), "more than 99 bytes") {
		t.Errorf("err = %v", err)
	}
	c.MaxBody = 100
	if _, err := c.Do(context.Background(), vendorhttp.Request{Op: "get", Method: http.MethodGet, URL: srv.URL}); err != nil {
		t.Errorf("err = %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Sat, 28 Nov 2026 10:00:30 GMT": 30 * time.Second,
		"Sat, 28 Nov 2026 09:00:00 GMT": 0,
	}
	for v, want := range tests {
		if got := vendorhttp.RetryAfter(http.Header{"Retry-After": {v}}, now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}

func TestBackoffJitter(t *testing.T) {
	r := vendorhttp.Retry{MaxWait: 5 * time.Second}.WithDefaults()
	for attempt, base := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		for range 50 {
			if d := r.Backoff(attempt); d < base/2 || d > base {
				t.Fatalf("backoff(%d) = %v, want between %v and %v", attempt, d, base/2, base)
			}
		}
	}
	if r := (vendorhttp.Retry{MaxRetries: -1}).WithDefaults(); r.MaxRetries != 0 || r.MaxWait != vendorhttp.DefaultMaxWait {
		t.Errorf("defaults = %+v", r)
	}
}

func TestSameHost(t *testing.T) {
	base, _ := url.Parse("https://example.okta.com")
	if got, err := vendorhttp.SameHost(base, "https://example.okta.com/api/v1/users", "/api/v1/users?after=x"); err != nil ||
		got != "https://example.okta.com/api/v1/users?after=x" {
		t.Errorf("relative link = %q, %v", got, err)
	}
	for _, next := range []string{"https://elsewhere.example/api", "http://example.okta.com/api"} {
		if _, err := vendorhttp.SameHost(base, "https://example.okta.com/api", next); err == nil {
			t.Errorf("%s followed", next)
		}
	}
}
