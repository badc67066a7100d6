package connector

import (
	"context"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
)

// Checker lets the flows service refuse to turn on a flow whose
// connections are not set (flows.Config.Checker).
type Checker struct {
	Connections *connection.Service
}

var _ flows.Checker = Checker{}

// CheckConnections returns an error naming each connection of refs that
// does not exist or is of another kind than the flow needs, such as
// `connection "Okta" (okta) is not set; add it with vigil connections add
// okta --name "Okta"`. Connections are global, not per folder.
func (c Checker) CheckConnections(ctx context.Context, _ string, refs []flows.ConnectionRef) error {
	out := make([]connection.Ref, len(refs))
	for i, r := range refs {
		out[i] = connection.Ref{Name: r.Name, Kind: r.Type}
	}
	return c.Connections.CheckRefs(ctx, out)
}
