package hooks

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// fakeResolver maps host names to addresses without DNS.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestCheckInput(t *testing.T) {
	s := New(nil, nil, Config{
		Allow: loopback,
		Resolver: fakeResolver{
			"receiver.local": {netip.MustParseAddr("127.0.0.1")},
			"mixed.local":    {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.1")},
		},
	})
	param := func(k, v string) Key { return Key{Name: k, Placement: PlaceParam, Value: v} }
	header := func(k, v string) Key { return Key{Name: k, Placement: PlaceHeader, Value: v} }
	tests := []struct {
		name    string
		in      Input
		field   string // "" when valid
		message string // part of the message
	}{
		{"https with param", Input{Name: "n", URL: "https://example.com/hook", Keys: []Key{param("clientToken", "t")}}, "", ""},
		{"case-distinct params", Input{Name: "n", URL: "https://example.com/hook", Keys: []Key{param("clientToken", "a"), param("ClientToken", "b")}}, "", ""},
		{"param and header of one name", Input{Name: "n", URL: "https://example.com/hook", Keys: []Key{param("token", "a"), header("token", "b")}}, "", ""},
		{"http on allowlisted literal", Input{Name: "n", URL: "http://127.0.0.1:8080/api/flo/x/invoke"}, "", ""},
		{"http on allowlisted name", Input{Name: "n", URL: "http://receiver.local/hook"}, "", ""},
		{"no name", Input{Name: " ", URL: "https://example.com"}, "name", "needs a name"},
		{"no URL", Input{Name: "n"}, "url", "required"},
		{"malformed URL", Input{Name: "n", URL: "https://exa mple.com/%zz"}, "url", "not a valid URL"},
		{"relative URL", Input{Name: "n", URL: "/hook"}, "url", "absolute https://"},
		{"ftp URL", Input{Name: "n", URL: "ftp://example.com/hook"}, "url", "absolute https://"},
		{"http on public host", Input{Name: "n", URL: "http://example.com/hook"}, "url", "must use https"},
		{"http on partly allowlisted name", Input{Name: "n", URL: "http://mixed.local/hook"}, "url", "blocked: private address"},
		{"http on unknown name", Input{Name: "n", URL: "http://nowhere.local/hook"}, "url", "must use https"},
		{"credentials in URL", Input{Name: "n", URL: "https://user:pw@example.com/hook"}, "url", "user name or password"},
		{"user in URL", Input{Name: "n", URL: "https://user@example.com/hook"}, "url", "user name or password"},
		{"empty key", Input{Name: "n", URL: "https://example.com", Keys: []Key{param("", "v")}}, "keys", "entry 1 has an empty key"},
		{"blank key", Input{Name: "n", URL: "https://example.com", Keys: []Key{param("a", "v"), header("  ", "v")}}, "keys", "entry 2 has an empty key"},
		{"duplicate param", Input{Name: "n", URL: "https://example.com", Keys: []Key{param("clientToken", "a"), param("clientToken", "b")}}, "keys", "given twice"},
		{"duplicate header by case", Input{Name: "n", URL: "https://example.com", Keys: []Key{header("X-Key", "a"), header("x-key", "b")}}, "keys", "given twice"},
		{"param also in URL", Input{Name: "n", URL: "https://example.com/h?clientToken=x", Keys: []Key{param("clientToken", "a")}}, "keys", "also in the webhook address"},
		{"empty value", Input{Name: "n", URL: "https://example.com", Keys: []Key{param("clientToken", "")}}, "keys", "has no value"},
		{"no placement", Input{Name: "n", URL: "https://example.com", Keys: []Key{{Name: "k", Value: "v"}}}, "keys", "needs a placement"},
		{"bad header name", Input{Name: "n", URL: "https://example.com", Keys: []Key{header("x key", "v")}}, "keys", "not a valid HTTP header name"},
		{"reserved header", Input{Name: "n", URL: "https://example.com", Keys: []Key{header("Webhook-Signature", "v")}}, "keys", "set by Vigil itself"},
		{"header value with newline", Input{Name: "n", URL: "https://example.com", Keys: []Key{header("X-Key", "a\r\nX-Evil: 1")}}, "keys", "line break"},
		{"negative concurrency", Input{Name: "n", URL: "https://example.com", MaxInFlight: -1}, "maxInFlight", "concurrency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.checkInput(context.Background(), tt.in, nil)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("checkInput = %v, want nil", err)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("checkInput = %v, want an *InvalidError", err)
			}
			if inv.Field != tt.field || !strings.Contains(inv.Message, tt.message) {
				t.Errorf("error = %s: %q, want %s: …%s…", inv.Field, inv.Message, tt.field, tt.message)
			}
			if strings.Count(strings.TrimSuffix(inv.Message, "."), ". ") > 0 || !strings.HasSuffix(inv.Message, ".") {
				t.Errorf("message %q is not one sentence", inv.Message)
			}
		})
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now, 24*time.Hour); got != tt.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDefaultJitter(t *testing.T) {
	j := Config{}.withDefaults().Jitter
	for _, d := range DefaultSchedule() {
		for range 200 {
			got := j(d)
			if got < d*8/10 || got > d*12/10 {
				t.Fatalf("jitter(%s) = %s, outside ±20%%", d, got)
			}
		}
	}
	var total time.Duration
	for _, d := range DefaultSchedule() {
		total += d
	}
	if total < 60*time.Hour || total > 80*time.Hour {
		t.Errorf("the default schedule spans %s, want about three days", total)
	}
}
