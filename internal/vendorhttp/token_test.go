package vendorhttp

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/vigil-ispm/vigil/internal/clocktest"
)

func TestRefusedToken(t *testing.T) {
	answer := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h, Body: http.NoBody}
	}
	// x/oauth2's own token requests parse the body into ErrorCode and
	// ErrorDescription; a multi-line description keeps its first line.
	parsed := &oauth2.RetrieveError{Response: answer(http.StatusUnauthorized, ""), ErrorCode: "invalid_client", //nolint:bodyclose // a made-up response whose body is http.NoBody
		ErrorDescription: "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0f6b2a9c"}
	// x/oauth2/jwt leaves the body unparsed.
	unparsed := &oauth2.RetrieveError{Response: answer(http.StatusTooManyRequests, "7"), //nolint:bodyclose // a made-up response whose body is http.NoBody
		Body: []byte(`{"error": "rate_limit_exceeded", "error_description": "Too many requests."}`)}
	for name, tt := range map[string]struct {
		err  error
		want tokenRefusal
		ok   bool
	}{
		"parsed":    {parsed, tokenRefusal{Status: 401, Code: "invalid_client", Message: "AADSTS7000215: Invalid client secret provided."}, true},
		"unparsed":  {unparsed, tokenRefusal{Status: 429, Code: "rate_limit_exceeded", Message: "Too many requests.", RetryAfter: 7 * time.Second}, true},
		"no answer": {&oauth2.RetrieveError{}, tokenRefusal{}, false},
		"network":   {errors.New("connection refused"), tokenRefusal{}, false},
	} {
		got, ok := refusedToken(tt.err, clocktest.Start)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: refusedToken = %+v, %v; want %+v, %v", name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestVendorTokenError(t *testing.T) {
	v := &Vendor{Name: "acme", Service: "Acme API", Unauthorized: errors.New("refused"), TokenEndpoint: "login endpoint"}
	err := v.TokenError(&oauth2.RetrieveError{Response: &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{}},
		ErrorCode: "invalid_client", ErrorDescription: "Bad secret.\nTrace ID: 1"}, clocktest.Start)
	if !errors.Is(err, v.Unauthorized) || err.Error() != "acme: get token: Acme API answered 401 invalid_client: Bad secret" {
		t.Errorf("refused: err = %v", err)
	}
	down := errors.New("connection refused")
	if err := v.TokenError(down, clocktest.Start); !errors.Is(err, down) ||
		err.Error() != "acme: get token: could not reach the login endpoint: connection refused" {
		t.Errorf("unreachable: err = %v", err)
	}
}
