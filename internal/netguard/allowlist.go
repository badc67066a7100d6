package netguard

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseAllowlist reads a comma-separated list of CIDRs, as given to
// --allow-outbound or VIGIL_ALLOW_OUTBOUND, such as "127.0.0.0/8,::1/128".
// A bare address means that single address. Host bits are cleared
// (127.0.0.1/8 becomes 127.0.0.0/8) and IPv4-mapped IPv6 prefixes are turned
// into their IPv4 form, so that entries match the way the guard compares
// addresses. An empty string yields an empty list.
func ParseAllowlist(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, field := range strings.Split(s, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		p, err := parseAllowEntry(field)
		if err != nil {
			return nil, fmt.Errorf("allowlist entry %q is not a CIDR such as 127.0.0.0/8 or ::1/128: %w", field, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseAllowEntry(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zones are not allowed")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return normalizePrefix(p), nil
}

// normalizePrefix masks p and rewrites ::ffff:a.b.c.d/n (n ≥ 96) as a.b.c.d/(n-96).
func normalizePrefix(p netip.Prefix) netip.Prefix {
	p = p.Masked()
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}
