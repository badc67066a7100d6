package store

import "time"

// UnfinishedFlowExecutionsSQL lets the plan test explain the real query.
const UnfinishedFlowExecutionsSQL = unfinishedFlowExecutionsSQL

// WALSizeLimit is the size SQLite cuts its WAL file back to.
const WALSizeLimit = walSizeLimit

// QueuedWrites counts the writes waiting for the SQLite batcher's next
// batch.
func (s *Store) QueuedWrites() int { return len(s.batch.ops) }

// MaxBatch bounds the writes one batch of the SQLite batcher commits.
const MaxBatch = maxBatch

// SetBatchLinger sets how long the SQLite batcher waits for more writes
// after a batch of several. Call it while the store is idle or while a
// write of its own holds the batcher: its next write is then seen after it.
func (s *Store) SetBatchLinger(d time.Duration) { s.batch.linger = d }
