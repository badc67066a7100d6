package netguard

import (
	"fmt"
	"net/netip"
)

// Reason says why an address is refused. It is a string so that callers can
// show it as is; the constants below cover the ranges the guard knows by name,
// and forms that embed an IPv4 address (NAT64, 6to4) build theirs from the
// embedded address's reason.
type Reason string

// Reasons for refusing an outbound address.
const (
	ReasonInvalid        Reason = "invalid address"
	ReasonMalformedHost  Reason = "malformed numeric host"
	ReasonUnspecified    Reason = "unspecified address"
	ReasonThisNetwork    Reason = "this-network address"
	ReasonLoopback       Reason = "loopback address"
	ReasonPrivate        Reason = "private address"
	ReasonSharedCGNAT    Reason = "carrier-grade NAT address"
	ReasonLinkLocal      Reason = "link-local address"
	ReasonMetadata       Reason = "cloud metadata address"
	ReasonMulticast      Reason = "multicast address"
	ReasonBroadcast      Reason = "broadcast address"
	ReasonReserved       Reason = "reserved address"
	ReasonDocumentation  Reason = "documentation address"
	ReasonBenchmarking   Reason = "benchmarking address"
	ReasonUniqueLocal    Reason = "unique local address"
	ReasonSiteLocal      Reason = "site-local address"
	ReasonIPv4Compatible Reason = "IPv4-compatible address"
	ReasonTeredo         Reason = "Teredo address"
	ReasonNAT64Local     Reason = "local-use NAT64 address"
	ReasonDiscard        Reason = "discard-only address"
)

// BlockedError is returned, possibly wrapped in a *url.Error by net/http,
// when the guard refuses an outbound address. Callers use errors.As to tell a
// refused target from a network failure, for instance to report
// "SSRF-blocked" in a connection test.
type BlockedError struct {
	// Host is the host name or literal as the caller wrote it, when known.
	Host string
	// Addr is the refused address; it is the zero Addr when the host could
	// not be turned into an address at all (see ReasonMalformedHost).
	Addr netip.Addr
	// Reason says which range the address falls in.
	Reason Reason
}

// Error returns one sentence that names the address, the reason and the way
// to permit it.
func (e *BlockedError) Error() string {
	target := e.Host
	if e.Addr.IsValid() {
		target = e.Addr.String()
		if e.Host != "" && e.Host != target {
			target = fmt.Sprintf("%s (%s)", e.Host, target)
		}
	}
	if !e.Addr.IsValid() {
		return fmt.Sprintf("outbound request to %s blocked: %s (write the address in its usual form)", target, e.Reason)
	}
	if e.Reason == ReasonMetadata {
		return fmt.Sprintf("outbound request to %s blocked: %s (add exactly this address to --allow-outbound to permit)", target, e.Reason)
	}
	return fmt.Sprintf("outbound request to %s blocked: %s (add it to --allow-outbound to permit)", target, e.Reason)
}
