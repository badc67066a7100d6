package invoke

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// AliasCacheAge is how long an endpoint row read for an invocation is used
// again, and so how long another node sharing the database may still
// accept a client token rotated or revoked elsewhere. A change made
// through this node's Endpoints is seen at once: it forgets every row.
const AliasCacheAge = 500 * time.Millisecond

// aliasCacheSize bounds the rows kept of each kind (found, unknown).
const aliasCacheSize = 1024

// byAlias returns the endpoint of alias as read at most AliasCacheAge ago,
// or store.ErrNotFound. The lookup was a quarter of the invoke handler's
// time. Unknown aliases are kept too (store.RowCache), so a refusal of an
// unknown alias costs what a refusal of a known one costs and timing does
// not tell whether an alias exists. What timing can still tell is whether
// an alias was looked up in the last AliasCacheAge by anyone, which holds
// as much for an unknown alias someone tried as for a known one. The row
// is shared: callers must not change it.
func (e *Endpoints) byAlias(ctx context.Context, alias string) (*store.Endpoint, error) {
	return e.aliases.Get(ctx, alias, e.readAlias)
}

// changed forgets every cached row. Endpoints calls it after each write to
// an endpoint, once the write is committed.
func (e *Endpoints) changed() { e.aliases.Forget() }
