package connection

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/vigil-ispm/vigil/internal/netguard"
)

// checkURL checks a URL field: absolute http(s), no credentials, query or
// fragment, https unless every address of the host is on the outbound
// allowlist. It returns the URL without a trailing slash. Messages never
// quote a secret field's value (a webhook URL is itself the secret).
func (s *Service) checkURL(ctx context.Context, f Field, raw string) (string, error) {
	show := raw
	if f.Secret {
		show = "the " + f.Label
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" || u.Hostname() == "" {
		return "", invalid(f.Name, fmt.Sprintf("The field %s must be an absolute https:// URL; %s is not.", f.Label, quoteOr(show, f.Secret)))
	}
	if u.User != nil {
		return "", invalid(f.Name, fmt.Sprintf("The field %s must not contain a user name or password; use the credential fields instead.", f.Label))
	}
	if (u.RawQuery != "" || u.Fragment != "") && !f.Secret {
		return "", invalid(f.Name, fmt.Sprintf("The field %s must not have a query or fragment.", f.Label))
	}
	if err := s.guard.CheckTarget(ctx, u); err != nil {
		var blocked *netguard.BlockedError
		if errors.As(err, &blocked) && !f.Secret {
			return "", invalid(f.Name, fmt.Sprintf("The field %s cannot be used: %s.", f.Label, blocked.Error()))
		}
		if errors.As(err, &blocked) {
			return "", invalid(f.Name, fmt.Sprintf("The field %s names a %s, which Vigil does not call unless it is on the outbound allowlist (--allow-outbound).", f.Label, blocked.Reason))
		}
		return "", invalid(f.Name, fmt.Sprintf("The field %s must use https; plain http is allowed only for hosts whose addresses are on the outbound allowlist (--allow-outbound).", f.Label))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func quoteOr(s string, secret bool) string {
	if secret {
		return s
	}
	return fmt.Sprintf("%q", s)
}
