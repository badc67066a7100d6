package netguard

import (
	"encoding/binary"
	"errors"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// hostAddr turns a host that is an address literal into that address.
//
// Besides the usual literals it reads the numeric forms that browsers and the
// C resolver accept (WHATWG URL Standard, "IPv4 parser"): 2130706433,
// 127.1, 0x7f.1, 0177.0.0.1 all mean 127.0.0.1. Go's own parser rejects them,
// so without this step such a host would go to DNS, whose answer depends on
// the machine's resolver. A host whose last label is a number but that is not
// a valid address in any of these forms is refused (ok is true, err is set),
// so the guard fails closed. For any other host ok is false: it is a name to
// resolve.
func hostAddr(host string) (addr netip.Addr, ok bool, err error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true, nil
	}
	if !endsInNumber(host) {
		return netip.Addr{}, false, nil
	}
	a, valid := parseLegacyIPv4(host)
	if !valid {
		return netip.Addr{}, true, &BlockedError{Host: host, Reason: ReasonMalformedHost}
	}
	return a, true, nil
}

// endsInNumber is the URL Standard's "ends in a number checker".
func endsInNumber(host string) bool {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseLegacyIPv4 is the URL Standard's IPv4 parser.
func parseLegacyIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 && n > 255 {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	if v > math.MaxUint32 {
		return netip.Addr{}, false
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b), true
}

// parseIPv4Number reads one part: 0x-prefixed hex, 0-prefixed octal or decimal.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	if strings.ContainsAny(s, "+-_") {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		// Too large for 64 bits is still a number, and still invalid.
		if errors.Is(err, strconv.ErrRange) {
			return 1 << 40, true
		}
		return 0, false
	}
	return n, true
}

// SameOrigin reports whether two absolute URLs share scheme, host and port
// (RFC 6454), the line a saved credential may not cross without being
// given again: an edit that moves a connection or integration to another
// origin must not carry its stored secret there. A URL that does not parse
// is on no origin.
func SameOrigin(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil || ua.Host == "" {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(hostPort(ua), hostPort(ub))
}

// hostPort is u's host with its port, the scheme's default port written
// out, so that https://h and https://h:443 are one origin.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return net.JoinHostPort(u.Hostname(), "443")
	case "http":
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return u.Host
}
