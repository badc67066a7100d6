package hooks

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// hookCacheAge is how long an integration read for a delivery from the
// local pool is used again. An integration changed on this node (saved,
// paused, resumed, its secret rotated, deleted) is read afresh at once
// (hooksChanged); one changed on another node sharing the database, within
// this time.
const hookCacheAge = 500 * time.Millisecond

// hookCacheSize bounds the integrations kept of each kind (found, missing).
const hookCacheSize = 256

// cachedHook returns the integration a delivery from the local pool goes
// to, read at most hookCacheAge ago. Under a burst every delivery read the
// same row; the job queue's attempts still read it afresh. The row is
// shared: callers must not change it.
func (s *Service) cachedHook(ctx context.Context, id string) (*store.Hook, error) {
	return s.hookRows.Get(ctx, id, s.st.Hook)
}

// hooksChanged makes the next cachedHook read the integrations again. Call
// it once a change to one is committed.
func (s *Service) hooksChanged() { s.hookRows.Forget() }
