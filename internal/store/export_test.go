package store

// UnfinishedFlowExecutionsSQL lets the plan test explain the real query.
const UnfinishedFlowExecutionsSQL = unfinishedFlowExecutionsSQL

// WALSizeLimit is the size SQLite cuts its WAL file back to.
const WALSizeLimit = walSizeLimit
