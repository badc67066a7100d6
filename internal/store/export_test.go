package store

// UnfinishedFlowExecutionsSQL lets the plan test explain the real query.
const UnfinishedFlowExecutionsSQL = unfinishedFlowExecutionsSQL

// WALSizeLimit is the size SQLite cuts its WAL file back to.
const WALSizeLimit = walSizeLimit

// QueuedWrites counts the writes waiting for the SQLite batcher's next
// batch.
func (s *Store) QueuedWrites() int { return len(s.batch.ops) }
