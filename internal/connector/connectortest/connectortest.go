// Package connectortest wires the connectors into a flows service the way
// the server does, for tests that save, turn on and run flows calling
// vendor actions against the vendor fakes.
package connectortest

import (
	"net/netip"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Loopback is what the services' outbound calls may reach: the fakes
// listen on loopback only.
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// Flows is a flows service whose catalog holds every connector action and
// whose flows find their connections in Conns.
type Flows struct {
	*flows.Service
	Conns *connection.Service
}

// NewFlows builds a Flows over st with a fresh sealing key.
func NewFlows(t testing.TB, st *store.Store) Flows {
	t.Helper()
	box := secrettest.Box(t)
	client := netguard.NewClient(netguard.Config{Allow: Loopback})
	conns := connection.New(st, box, connection.Config{Client: client, Allow: Loopback})
	cat := catalog.New()
	if err := connector.New(connector.Config{Connections: conns, Client: client}).Register(cat); err != nil {
		t.Fatal(err)
	}
	svc := flows.New(st, box, flows.Config{Catalog: cat, Checker: connector.Checker{Connections: conns}, HTTPClient: client})
	return Flows{Service: svc, Conns: conns}
}
