package flows

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// flowCacheAge is how long a flow row read for an invocation is used
// again. A flow turned off or saved on this node is read afresh at once
// (flowsChanged); on another node sharing the database, within this time.
const flowCacheAge = 500 * time.Millisecond

// flowCacheSize bounds the rows kept of each kind (found, missing).
const flowCacheSize = 1024

// cachedFlow returns the flow's row as read at most flowCacheAge ago, or
// store.ErrNotFound as found then. The invoke path reads the flow twice per
// call (the endpoint's flow, then the flow the execution starts), which
// was a fifth of a synchronous invocation's server time.
//
// A flow that does not exist is kept too: the invoke endpoint looks up a
// decoy flow for every unknown alias, and that lookup must cost what a
// known flow's costs, so that timing does not tell the two apart. Flow ids
// are never reused and a flow created here forgets the cache, so a kept
// absence can only hide a flow created on another node in the last
// flowCacheAge, for a caller that asked for its id before it existed. The
// row is shared: callers must not change it.
func (s *Service) cachedFlow(ctx context.Context, flowID string) (*store.Flow, error) {
	return s.flows.Get(ctx, flowID, s.st.Flow)
}

// flowByName reads a folder's flow by namespace and name, as
// store.FlowByName does.
type flowByName func(ctx context.Context, folderID, namespace, name string) (*store.Flow, error)

// cachedFlowByName is store.FlowByName through a cache kept as cachedFlow's
// is, for the executions that start helper flows: each start of a helper
// read its flow by name, a join, once per execution (the chain's routing
// flow starts one helper per issue). A flow's name, folder, state and
// version change only through the saves, switches and deletions that
// call flowsChanged, so this node sees its own changes at once and another
// node's within flowCacheAge, as for the rows by id; the flows a save
// checks are read without it.
func (s *Service) cachedFlowByName(ctx context.Context, folderID, namespace, name string) (*store.Flow, error) {
	key := folderID + "\x00" + namespace + "\x00" + name
	return s.flowsByName.Get(ctx, key, func(ctx context.Context, _ string) (*store.Flow, error) {
		return s.st.FlowByName(ctx, folderID, namespace, name)
	})
}

// flowsChanged forgets every cached flow row. Call it after a flow is
// saved, turned on or off, or deleted on this node, once the change is
// committed.
func (s *Service) flowsChanged() {
	s.flows.Forget()
	s.flowsByName.Forget()
}
