package enginetest

// SignedFlow is a flow, titled "Signed", behind a public API Endpoint that
// checks a GitHub-style HMAC signature in X-Hub-Signature-256: the flow
// the tests of the signing secret's API, console and command line set a
// secret for.
const SignedFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: signed
  version: '1.0.0'
  title: Signed
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          security: public
          signature: {scheme: hmac-sha256, secret: github, header: X-Hub-Signature-256}
do:
  - ok: {set: {ok: true}}
`
