package netguard

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"slices"
)

// ErrPlainHTTP is returned by CheckTarget for a plain http URL whose host
// is not on the allowlist.
var ErrPlainHTTP = errors.New("plain http is allowed only for hosts on the outbound allowlist")

// CheckTarget is the check of an address a user saves for Vigil to call
// later (a webhook, a connection, an identity source), so that a bad one is
// refused when it is typed rather than at its first use:
//
//   - whatever the scheme, every address the host is or resolves to must
//     pass Check (https://127.0.0.1 is refused unless allowlisted), and a
//     malformed numeric host is refused;
//   - plain http is accepted only when every address is on the allowlist
//     (a host the operator vouched for), since it would send credentials
//     in the clear; otherwise CheckTarget returns ErrPlainHTTP.
//
// A name that does not resolve now is accepted for https: the dial-time
// check still applies when the URL is used, and catches a later DNS change
// too. The error of a refused address is a *BlockedError.
func (g *Guard) CheckTarget(ctx context.Context, u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("the URL scheme is not http or https")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("the URL has no host")
	}
	addrs, err := g.resolve(ctx, "ip", host)
	var blocked *BlockedError
	switch {
	case errors.As(err, &blocked):
		return withHost(err, host)
	case err != nil || len(addrs) == 0:
		if u.Scheme == "http" {
			return ErrPlainHTTP
		}
		return nil
	}
	for _, a := range addrs {
		if err := g.Check(a); err != nil {
			return withHost(err, host)
		}
	}
	if u.Scheme == "http" && !g.allowlisted(addrs) {
		return ErrPlainHTTP
	}
	return nil
}

// allowlisted reports whether every address is inside an allowlist entry.
func (g *Guard) allowlisted(addrs []netip.Addr) bool {
	allow := g.allowlist()
	if len(allow) == 0 {
		return false
	}
	for _, a := range addrs {
		a = normalize(a)
		if !slices.ContainsFunc(allow, func(p netip.Prefix) bool { return normalizePrefix(p).Contains(a) }) {
			return false
		}
	}
	return true
}
