package connection

import (
	"context"
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
	if u.Scheme == "http" && !s.allowlisted(ctx, u.Hostname()) {
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

// allowlisted reports whether host resolves only to addresses on the
// outbound allowlist.
func (s *Service) allowlisted(ctx context.Context, host string) bool {
	return netguard.Allowlisted(ctx, s.cfg.Resolver, s.cfg.Allow, host)
}
