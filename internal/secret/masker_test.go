package secret_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/secret"
)

// TestMasker checks what the one masker hides for both its callers (the
// connector's call record and a webhook delivery's attempt): a known
// secret as written and as a URL escapes it, an address's path, a
// credential header keeping its scheme, a token-named query parameter, a
// credential field of a form or JSON body, and a token field of a cut JSON
// text; and that it keeps what is not secret.
func TestMasker(t *testing.T) {
	t.Parallel()
	key := "k3y/+= " + strings.Repeat("x", 12)
	hook := "https://hooks.example.com/services/T000/B000/XXXX"
	m := secret.NewMasker(key, hook, "abc") // "abc" is too short to hide
	for _, form := range []string{key, url.QueryEscape(key), url.PathEscape(key)} {
		if got := m.String("before " + form + " after"); strings.Contains(got, form) || !strings.Contains(got, "before ") || !strings.HasSuffix(got, "xxxx after") {
			t.Errorf("String(%q) = %q, want the secret masked to its last four characters", form, got)
		}
	}
	if got := m.String("abc def"); got != "abc def" {
		t.Errorf("a three-character value was masked: %q", got)
	}
	u, _ := url.Parse("https://user:pw@hooks.example.com/services/T000/B000/XXXX?token=t0ps3cret&page=2")
	got := m.URL(u)
	if strings.Contains(got, "B000") || strings.Contains(got, "t0ps3cret") || strings.Contains(got, "pw@") ||
		!strings.HasPrefix(got, "https://hooks.example.com/") || !strings.Contains(got, "page=2") {
		t.Errorf("URL = %q, want host and page kept, path, token and password hidden", got)
	}
	h := http.Header{"Authorization": {"Bearer abcdefghijklmnop"}, "X-Team-Key": {"teamkey-123456"},
		"Accept": {"application/json"}, "X-Echo": {"sent " + key}}
	hdr := m.WithHeaders("X-Team-Key").Headers(h)
	if hdr["Authorization"] != "Bearer ••••••••mnop" || hdr["X-Team-Key"] != "••••••••3456" ||
		hdr["Accept"] != "application/json" || strings.Contains(hdr["X-Echo"], key) {
		t.Errorf("Headers = %q", hdr)
	}
	form := m.Form(url.Values{"client_secret": {"s3cr3t-value"}, "grant_type": {"client_credentials"}})
	if form["client_secret"] != "••••••••alue" || form["grant_type"] != "client_credentials" {
		t.Errorf("Form = %v", form)
	}
	v := m.Value(map[string]any{"access_token": "tok-1234567890", "items": []any{"x " + key}, "n": 3})
	mv := v.(map[string]any)
	if mv["access_token"] != "••••••••7890" || strings.Contains(mv["items"].([]any)[0].(string), key) || mv["n"] != 3 {
		t.Errorf("Value = %v", v)
	}
	if got := m.Text(`{"id":1,"password":"hunter2hunter2","note":"cut`); strings.Contains(got, "hunter2hunter2") || !strings.Contains(got, `"id":1`) {
		t.Errorf("Text = %q", got)
	}
	more := m.With("extra-secret-1").Redacting()
	if got := string(more.Bytes([]byte("a extra-secret-1 b " + key))); got != "a [redacted] b [redacted]" {
		t.Errorf("Redacting Bytes = %q", got)
	}
	if m.Longest() < len(hook) {
		t.Errorf("Longest = %d, want at least %d", m.Longest(), len(hook))
	}
	if got := m.String("still " + "extra-secret-1"); !strings.Contains(got, "extra-secret-1") {
		t.Error("With changed the masker it was called on")
	}
}
