// Package engine executes flows parsed by package dsl with the semantics
// of the CNCF Serverless Workflow DSL 1.0, and is where the rest of Vigil
// plugs in: the HTTP client, the function catalog, helper flows, the
// journal that makes executions durable, the clock and secrets are all
// small interfaces in Config. One Engine serves every execution.
//
// # Data flow
//
// Each task follows the specification: if (evaluated on the task's raw
// input; a false if skips the task and passes its input on), input.schema,
// input.from (the result is $input and `.` inside the task), the task,
// output.as (on the raw output), output.schema, export.as (on the
// transformed output, with $output; its result, which must be an object,
// replaces $context). The transformed output is the next task's raw input.
// The workflow's $context starts as an empty object. Expressions see
// $context, $input, $output, $secret (and the spec's $secrets), $task,
// $workflow and $runtime; $authorization is not provided. Secrets are the
// names listed under use.secrets, read from Config.Secrets on first use.
// An expression that yields several results gives its first; none gives
// null.
//
// # Task semantics and choices
//
//   - set replaces the data with the evaluated object.
//   - switch takes the first case whose when is true (a case without when
//     always matches); with no match the task's own then applies. Its
//     output is its input. Directives: continue, exit (leave the enclosing
//     task list), end (end the workflow gracefully) or a task of the same
//     list.
//   - for iterates an array (null means no iteration; other values fault).
//     while is checked before each iteration. Each iteration's input is the
//     previous iteration's output. Vigil's own option
//     `metadata: {vigil: {concurrency: N}}` (1–64) runs up to N iterations
//     at a time instead: each gets the for task's input, the output is the
//     array of iteration outputs in order, context changes made inside are
//     dropped, and while is refused at validation.
//   - fork runs branches concurrently with the fork's input. Without
//     compete the output is the array of branch outputs in order and a
//     faulting branch cancels the others; with compete the first branch
//     to complete wins and the others are cancelled.
//   - try/catch: errors.with filters on type, status, instance, title and
//     detail (the spellings of the standard type URIs used by the spec and
//     its conformance kit compare equal); when, exceptWhen and retry's
//     when/exceptWhen are evaluated with the error as `.` and as $<as>
//     (default $error). Retry delays are constant (delay), linear
//     (delay × attempt) or exponential (delay × 2^(attempt-1)), plus a
//     random jitter in [from, to]; limit.attempt.count caps retries,
//     limit.duration the time since the first attempt, and
//     limit.attempt.duration each attempt. A caught error runs catch.do
//     with the try's input; without catch.do the try outputs its input,
//     except when a retry policy has run out, where the error propagates.
//   - raise builds the error from its definition (or use.errors); instance
//     defaults to the task's reference, such as /do/0/raiseError.
//   - wait sleeps through Config.Clock. It has no default timeout.
//   - emit builds a CloudEvent (id, specversion 1.0, time, source, type,
//     data, and any other attribute given), records it as a journal Note
//     of kind "event" and makes it the task's output.
//   - call http: the endpoint is a URI template whose {name} variables are
//     the input's top-level fields, or an expression; headers, query and
//     body may hold expressions; non-string bodies are sent as JSON.
//     Responses outside 2xx (3xx too unless redirect: true, which also
//     follows redirects) raise a communication error with the response's
//     status; transport failures raise one with status 503. output is
//     content (JSON decoded, text as a string), response ({request,
//     statusCode, headers, content}; the request's credentials are
//     hidden) or raw (base64). Authentication: basic, bearer, oauth2 and
//     oidc with the client_credentials grant, inline, by use.authentications
//     name, or from a secret (`use: NAME`).
//   - call openapi fetches the OpenAPI 3 or Swagger 2.0 document (through
//     the same client; external references are not followed), finds the
//     operation by operationId and fills path, query, header and cookie
//     parameters and the body (the parameter named after a Swagger body
//     parameter, or "body") from parameters.
//   - call NAME runs a function of use.functions (a task whose input is
//     the call's with) or of the Catalog.
//   - run workflow with await (default) runs the helper flow inline; its
//     steps are journaled under the calling task's key and count toward
//     the parent's step limit. A helper's fault is raised at the calling
//     task with the helper's instance in the detail. With await: false the
//     output is the task's input and the child is started through
//     Config.Spawner, or, without one, in a goroutine with its own memory
//     journal that Run waits for before returning (Result.Children).
//
// # Durability
//
// Every task run has a deterministic journal key: its reference plus loop
// iterations (/do/1/loop/for/3/do/0/notify), retry attempts (try@2) and
// revisits of a task after a jump (name@2). Before running a task the
// engine looks its key up in the Journal and reuses a recorded step
// (output, context, the directive taken, such as a switch's decision, or
// the fault) instead of running it. After a crash, calling Run again with
// the same ExecutionID, StartedAt and Journal replays the recorded steps
// and continues with the first unrecorded task, so no completed task runs
// twice. A durable journal need store at once only the steps marked
// Effect (calls, helper flows, waits, events, reads of the clock); the
// others it may store with the next one, since running them again gives
// the same steps. A task interrupted mid-way runs again: side effects are
// at-least-once, and catalog functions should be idempotent or tolerate a
// repeat. Expressions that are not task results (if, for's in and while,
// a catch's filters) are evaluated again on resume, with the same inputs;
// expressions that read the clock (now) may then decide differently.
// Tasks interrupted by the caller's cancellation or a lost compete race
// are not recorded, nor are the fatal faults of limits (the execution
// ends with them anyway).
//
// Steps carry the exact output and context needed to resume (which may
// contain secret values: stores must not show them and should seal them)
// and, only when the flow's saveAllData is on, a History copy of the
// task's input and output with every secret value the execution used
// ($secret values, credentials of authentication policies, OAuth2 tokens)
// replaced by "[redacted]".
//
// # Limits
//
// Limits bound every execution: MaxSteps tasks (default 10,000; replayed
// steps count), MaxDuration per Run call (default 1 h) and the workflow's
// own timeout, TaskTimeout for call tasks unless they set their own
// timeout (default 90 s), MaxOutputBytes for task outputs
// and HTTP responses (default 1 MiB), MaxCallDepth for helper flows
// (default 8) and ExprSteps of jq work per evaluation (default 2,000,000
// instructions, counted through the context gojq polls), so that
// `def f: f; f` or `[range(1e9)]` fault within a fraction of a second.
// Step, depth, duration and workflow timeout faults are fatal: no catch
// catches them. A single jq builtin that allocates a big value at once
// (string repetition) is bounded by gojq itself and then by the output
// size check, not by ExprSteps.
//
// # Faults
//
// An uncaught error ends the execution with a *Fault: the RFC 7807 object
// (type, status, instance, title, detail) of the specification, where
// instance is the JSON pointer of the task that raised it. Standard types
// are the Err* constants.
package engine
