package netguard

import (
	"net/netip"
)

// metadata lists the instance-metadata endpoints of the major clouds. They
// get their own reason and may only be permitted by an allowlist entry that
// names the single address, because a broad entry such as 169.254.0.0/16
// written for a lab network should not open the credentials endpoint too.
var metadata = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
	netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata and credentials
	netip.MustParseAddr("169.254.170.23"):  true, // AWS EKS Pod Identity agent
	netip.MustParseAddr("169.254.169.123"): true, // AWS time sync, same link-local service host
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
	netip.MustParseAddr("192.0.0.192"):     true, // Oracle Cloud (legacy)
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS IMDS over IPv6
	netip.MustParseAddr("fd00:ec2::23"):    true, // AWS EKS Pod Identity agent over IPv6
}

type blockedRange struct {
	prefix netip.Prefix
	reason Reason
}

// v4Ranges are the IPv4 ranges that are not globally reachable unicast
// (IANA IPv4 Special-Purpose Address Registry), plus multicast and broadcast.
var v4Ranges = []blockedRange{
	{netip.MustParsePrefix("0.0.0.0/32"), ReasonUnspecified},
	{netip.MustParsePrefix("0.0.0.0/8"), ReasonThisNetwork},
	{netip.MustParsePrefix("10.0.0.0/8"), ReasonPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), ReasonSharedCGNAT},
	{netip.MustParsePrefix("127.0.0.0/8"), ReasonLoopback},
	{netip.MustParsePrefix("169.254.0.0/16"), ReasonLinkLocal},
	{netip.MustParsePrefix("172.16.0.0/12"), ReasonPrivate},
	{netip.MustParsePrefix("192.0.0.0/24"), ReasonReserved},
	{netip.MustParsePrefix("192.0.2.0/24"), ReasonDocumentation},
	{netip.MustParsePrefix("192.88.99.0/24"), ReasonReserved}, // former 6to4 relay anycast
	{netip.MustParsePrefix("192.168.0.0/16"), ReasonPrivate},
	{netip.MustParsePrefix("198.18.0.0/15"), ReasonBenchmarking},
	{netip.MustParsePrefix("198.51.100.0/24"), ReasonDocumentation},
	{netip.MustParsePrefix("203.0.113.0/24"), ReasonDocumentation},
	{netip.MustParsePrefix("224.0.0.0/4"), ReasonMulticast},
	{netip.MustParsePrefix("255.255.255.255/32"), ReasonBroadcast},
	{netip.MustParsePrefix("240.0.0.0/4"), ReasonReserved},
}

var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	v4Compatible   = netip.MustParsePrefix("::/96")
	globalUnicast  = netip.MustParsePrefix("2000::/3")
)

// v6Ranges are the IPv6 ranges refused outright. Forms that embed an IPv4
// address are handled in classify; everything outside 2000::/3 that is not
// listed here is refused as reserved.
var v6Ranges = []blockedRange{
	{netip.MustParsePrefix("::/128"), ReasonUnspecified},
	{netip.MustParsePrefix("::1/128"), ReasonLoopback},
	{netip.MustParsePrefix("64:ff9b:1::/48"), ReasonNAT64Local},
	{netip.MustParsePrefix("100::/64"), ReasonDiscard},
	{netip.MustParsePrefix("2001::/32"), ReasonTeredo},
	{netip.MustParsePrefix("2001:2::/48"), ReasonBenchmarking},
	{netip.MustParsePrefix("2001:db8::/32"), ReasonDocumentation},
	{netip.MustParsePrefix("2001:10::/28"), ReasonReserved}, // ORCHID
	{netip.MustParsePrefix("2001:20::/28"), ReasonReserved}, // ORCHIDv2
	{netip.MustParsePrefix("3fff::/20"), ReasonDocumentation},
	{netip.MustParsePrefix("fc00::/7"), ReasonUniqueLocal},
	{netip.MustParsePrefix("fe80::/10"), ReasonLinkLocal},
	{netip.MustParsePrefix("fec0::/10"), ReasonSiteLocal},
	{netip.MustParsePrefix("ff00::/8"), ReasonMulticast},
}

// Check reports whether addr is a publicly routable unicast address that
// Vigil may call without an allowlist. It returns a *BlockedError naming the
// reason otherwise. Use (*Guard).Check to honour an allowlist.
func Check(addr netip.Addr) error {
	a := normalize(addr)
	if r := classify(a); r != "" {
		return &BlockedError{Addr: a, Reason: r}
	}
	return nil
}

// normalize drops the zone and turns an IPv4-mapped IPv6 address into the
// IPv4 address it reaches: a socket to ::ffff:a.b.c.d connects to a.b.c.d.
func normalize(addr netip.Addr) netip.Addr {
	return addr.WithZone("").Unmap()
}

// classify returns why a (already normalized) address is refused, or "" if it
// is public.
func classify(a netip.Addr) Reason {
	if !a.IsValid() {
		return ReasonInvalid
	}
	if metadata[a] {
		return ReasonMetadata
	}
	if a.Is4() {
		for _, r := range v4Ranges {
			if r.prefix.Contains(a) {
				return r.reason
			}
		}
		return ""
	}
	for _, r := range v6Ranges {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	b := a.As16()
	switch {
	case nat64WellKnown.Contains(a):
		inner := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		if r := classify(inner); r != "" {
			return "NAT64 address embedding a " + r
		}
		return ""
	case sixToFour.Contains(a):
		inner := netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		if r := classify(inner); r != "" {
			return "6to4 address embedding a " + r
		}
		return ""
	case v4Compatible.Contains(a):
		return ReasonIPv4Compatible
	case !globalUnicast.Contains(a):
		return ReasonReserved
	}
	return ""
}
