package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/netguard"
)

// Placement says where an API key entry travels.
type Placement string

// Placements of API key entries.
const (
	// PlaceParam sends the entry as a URL query parameter, as Okta
	// Workflows' API Endpoint expects its clientToken.
	PlaceParam Placement = "param"
	// PlaceHeader sends the entry as an HTTP header.
	PlaceHeader Placement = "header"
)

// Limits on what a user may type.
const (
	maxNameLen     = 100
	maxKeyNameLen  = 256
	maxKeyValueLen = 8 << 10
	maxKeys        = 20
	maxMaxInFlight = 100
	maxRate        = 1000
)

// reservedHeaders are set by the sender itself; an API key entry may not
// replace them, or the request would be malformed or its signature wrong.
var reservedHeaders = []string{
	"host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent",
	"webhook-id", "webhook-timestamp", "webhook-signature", "x-vigil-test",
}

// validateName checks an integration name and returns it trimmed.
func validateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", invalid("name", "The integration needs a name.")
	case len(name) > maxNameLen:
		return "", invalid("name", fmt.Sprintf("The integration name is longer than %d characters.", maxNameLen))
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", invalid("name", "The integration name contains control characters.")
	}
	return name, nil
}

// validateURL checks a webhook address: absolute, http(s), no credentials,
// https unless every address of the host is on the outbound allowlist.
func (s *Service) validateURL(ctx context.Context, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, invalid("url", "The webhook address (URL) is required.")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid("url", "The webhook address is not a valid URL.")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return nil, invalid("url", "The webhook address must be an absolute https:// URL, such as https://example.com/hook.")
	}
	if u.User != nil {
		return nil, invalid("url", "The webhook address must not contain a user name or password; add an API key entry instead.")
	}
	if u.Hostname() == "" {
		return nil, invalid("url", "The webhook address has no host name.")
	}
	if err := s.guard.CheckTarget(ctx, u); err != nil {
		var blocked *netguard.BlockedError
		if errors.As(err, &blocked) {
			return nil, invalid("url", fmt.Sprintf("The webhook address cannot be used: %s.", blocked.Error()))
		}
		return nil, invalid("url", "The webhook address must use https; plain http is allowed only for hosts whose addresses are on the outbound allowlist (--allow-outbound).")
	}
	return u, nil
}

// validateKeys checks API key entries as typed. Names keep their case
// (clientToken is not ClientToken); a header name is compared without case,
// as HTTP does. When keep is given, an entry without a value keeps the
// value keep returns for it (editing a saved integration).
func validateKeys(keys []Key, u *url.URL, keep func(Key) (string, bool)) ([]Key, error) {
	if len(keys) > maxKeys {
		return nil, invalid("keys", fmt.Sprintf("An integration may have at most %d API key entries.", maxKeys))
	}
	out := make([]Key, 0, len(keys))
	seen := map[string]bool{}
	query := u.Query()
	for i, k := range keys {
		if strings.TrimSpace(k.Name) == "" {
			return nil, invalid("keys", fmt.Sprintf("API key entry %d has an empty key.", i+1))
		}
		if len(k.Name) > maxKeyNameLen {
			return nil, invalid("keys", fmt.Sprintf("The key of API key entry %d is longer than %d characters.", i+1, maxKeyNameLen))
		}
		id := string(k.Placement) + "\x00" + k.Name
		switch k.Placement {
		case PlaceParam:
			if query.Has(k.Name) {
				return nil, invalid("keys", fmt.Sprintf("The key %q is also in the webhook address's query; give it once.", k.Name))
			}
		case PlaceHeader:
			if !input.HeaderName(k.Name) {
				return nil, invalid("keys", fmt.Sprintf("The key %q is not a valid HTTP header name.", k.Name))
			}
			if slices.Contains(reservedHeaders, strings.ToLower(k.Name)) {
				return nil, invalid("keys", fmt.Sprintf("The header %q is set by Vigil itself and cannot be an API key entry.", k.Name))
			}
			id = string(k.Placement) + "\x00" + strings.ToLower(k.Name)
		default:
			return nil, invalid("keys", fmt.Sprintf("The key %q needs a placement: param (URL parameter) or header.", k.Name))
		}
		if seen[id] {
			return nil, invalid("keys", fmt.Sprintf("The key %q is given twice; each key may appear once.", k.Name))
		}
		seen[id] = true
		if k.Value == "" && keep != nil {
			if v, ok := keep(k); ok {
				k.Value = v
			}
		}
		if k.Value == "" {
			return nil, invalid("keys", fmt.Sprintf("The key %q has no value.", k.Name))
		}
		if len(k.Value) > maxKeyValueLen {
			return nil, invalid("keys", fmt.Sprintf("The value of the key %q is longer than %d characters.", k.Name, maxKeyValueLen))
		}
		if k.Placement == PlaceHeader && strings.ContainsAny(k.Value, "\r\n\x00") {
			return nil, invalid("keys", fmt.Sprintf("The value of the header %q contains a line break.", k.Name))
		}
		out = append(out, k)
	}
	return out, nil
}

// validateLimits checks per-integration limits; zero means the default.
func validateLimits(maxInFlight int, rate float64) error {
	if maxInFlight < 0 || maxInFlight > maxMaxInFlight {
		return invalid("maxInFlight", fmt.Sprintf("The concurrency limit must be between 1 and %d (0 for the default).", maxMaxInFlight))
	}
	if rate < 0 || rate > maxRate {
		return invalid("ratePerSecond", fmt.Sprintf("The rate limit must be between 0 and %d requests per second (0 for the default).", maxRate))
	}
	return nil
}
