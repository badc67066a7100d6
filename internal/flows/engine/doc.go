// Package engine executes flows parsed by package dsl, with the
// semantics of the CNCF Serverless Workflow DSL 1.0.
package engine
