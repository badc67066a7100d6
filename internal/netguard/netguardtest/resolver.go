// Package netguardtest helps tests of code that checks outbound addresses.
package netguardtest

import (
	"context"
	"net"
	"net/netip"
)

// Resolver maps host names to addresses without DNS, so tests never look a
// name up on the network; a name it does not hold does not exist.
type Resolver map[string][]netip.Addr

// LookupNetIP returns the addresses of host, or a not-found DNS error.
func (r Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
