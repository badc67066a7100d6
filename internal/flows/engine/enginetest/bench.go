package enginetest

// BenchFlow is the tasks of the 10-task flow that the engine's benchmark
// runs in memory and the flows service's benchmarks run durably, so that
// their figures compare: set, switch and calls of test.noop, a catalog
// function that does nothing. With .user.source "Okta" it runs all ten.
const BenchFlow = `do:
  - init: {set: {count: 0, user: '${ .user }'}}
  - route:
      switch:
        - okta: {when: .user.source == "Okta", then: suspend}
        - other: {then: end}
  - suspend: {call: test.noop, with: {user: '${ .user.id }'}}
  - s1: {set: {step: 1, user: '${ $input.user }'}}
  - check:
      switch:
        - again: {when: .step > 5, then: end}
  - s2: {set: {step: '${ .step + 1 }', user: '${ .user }'}}
  - notify: {call: test.noop, with: {msg: '${ "user \(.user.id)" }'}}
  - s3: {set: {step: '${ .step + 1 }'}}
  - log: {call: test.noop, with: {step: '${ .step }'}}
  - done: {set: {result: '${ .step }', ok: true}}
`
