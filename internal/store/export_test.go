package store

// UnfinishedFlowExecutionsSQL lets the plan test explain the real query.
const UnfinishedFlowExecutionsSQL = unfinishedFlowExecutionsSQL
