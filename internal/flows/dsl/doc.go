// Package dsl parses and validates flows written in the CNCF Serverless
// Workflow DSL 1.0 (YAML or JSON) into Go values the engine executes.
//
// Validation is written in Go rather than delegated to the official JSON
// Schema so that every problem names the task path and source line
// (`do[2].suspendUser.with.userId: expected string (line 14)`) and so that
// Vigil can refuse, at validation time and never silently, what it does not
// execute: listen, call grpc/asyncapi/mcp/a2a, run container/shell/script,
// remote catalog functions, extensions and schedules all fail with a
// message containing "not supported". Tests cross-check this validation
// against the official schema.
//
// Runtime expressions are jq programs (github.com/itchyny/gojq). Parse
// compiles each one exactly once, with the standard arguments ($context,
// $input, $output, $secret/$secrets, $task, $workflow, $runtime,
// $authorization) plus the variables in scope where it appears (a for
// task's each/at names, a catch's as name). A *Workflow is immutable and
// may be shared by any number of concurrent executions. Expressions cannot
// read the process environment ($ENV and env are empty).
//
// Fields that are always expressions (if, switch when, for in, while,
// catch when/exceptWhen, input.from, output.as, export.as) may be written
// with or without `${ }`; elsewhere only strings written as `${ … }` are
// evaluated and every other string is literal.
//
// Vigil keeps its own settings in document.metadata.vigil (see Trigger and
// SaveAllData); a flow without a trigger is a helper flow. A for task may
// carry metadata.vigil.concurrency (1–64) to run that many iterations at a
// time; see the engine package for its semantics.
package dsl
