package vendorhttp

import (
	"errors"
	"testing"
	"time"
)

func TestVendorError(t *testing.T) {
	refused, limited, missing := errors.New("refused"), errors.New("limited"), errors.New("missing")
	v := Vendor{Name: "acme", Service: "Acme API", Unauthorized: refused, RateLimited: limited,
		Codes: map[string]error{"invalid_client": refused, "quotaExceeded": limited, "": missing}}
	for _, tt := range []struct {
		status int
		code   string
		kind   error
	}{
		{401, "", refused},
		{429, "", limited},
		{403, "", nil},                  // Forbidden is not set: a 403 alone names no kind
		{403, "quotaExceeded", limited}, // the code says more than the status
		{400, "invalid_client", refused},
		{404, "", nil}, // an empty code never matches Codes
		{500, "unknown", nil},
	} {
		e := v.Error("list users", tt.status, tt.code, "", 2*time.Second)
		if !errors.Is(e.Kind, tt.kind) || e.StatusCode != tt.status || e.Code != tt.code || e.RetryAfter != 2*time.Second {
			t.Errorf("Error(%d, %q) = %+v, want kind %v", tt.status, tt.code, e, tt.kind)
		}
	}
	if got, want := v.Error("list users", 503, "", "", 0).Error(), "acme: list users: Acme API answered 503: Service Unavailable"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if got, want := v.Error("list users", 403, "quotaExceeded", "Quota exceeded.", 0).Error(), "acme: list users: Acme API answered 403 quotaExceeded: Quota exceeded"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestVendorRefusal(t *testing.T) {
	v := Vendor{Name: "acme", Service: "Acme API", Codes: map[string]error{"quotaExceeded": errors.New("limited")},
		Decode: func(body []byte) (string, string) { return string(body), "Quota exceeded." }}
	r := &Response{Status: 403, Body: []byte("quotaExceeded"), RetryAfter: time.Second}
	if err := v.Refusal("list users", r); !errors.Is(err, v.Codes["quotaExceeded"]) ||
		err.Error() != "acme: list users: Acme API answered 403 quotaExceeded: Quota exceeded (retry after 1s)" {
		t.Errorf("with Decode: %v", err)
	}
	v.Decode = nil
	if err := v.Refusal("list users", r); err.Error() != "acme: list users: Acme API answered 403: Forbidden (retry after 1s)" {
		t.Errorf("without Decode: %v", err)
	}
}
