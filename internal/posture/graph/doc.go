// Package graph holds Vigil's normalized view of identities: the accounts
// read from every identity source, the tenants they live in, and the people
// they belong to.
//
// The types here are deliberately independent of any vendor API. Adapters
// (internal/posture/source) translate what Okta, Microsoft Entra ID, Google
// Workspace, Salesforce and AWS return into [Account] values; detections
// (internal/posture/detect) read only this package. The same shape is Vigil's
// snapshot file format (see [ReadSnapshot] and docs/snapshot.md), so a
// snapshot can stand in for any source.
//
// # Who is a person
//
// The primary identity provider decides. Every account of the primary source
// (the first Okta source unless [Options.Primary] names another) makes or
// joins a [Person]; accounts of the other sources join the person whose key
// they match and are otherwise left without one (an orphan). Keys are
// normalized email addresses, see [NormalizeEmail]. Because the primary
// source also lists its suspended and deprovisioned users, a former employee
// still has a Person, which lets a detection tell a partially offboarded user
// from a stranger.
//
// # Human or service
//
// [Account.Kind] is set by the adapter, which knows what the source says.
// The rules Vigil's adapters follow, and that a snapshot writer should
// follow too:
//
//   - Okta: a user whose user type (profile type name) contains "service" is
//     a service account.
//   - Microsoft Entra ID: service principals are service accounts; users are
//     human.
//   - Google Workspace: every user is human (Google service accounts are not
//     directory users).
//   - Salesforce: a User whose UserType is not "Standard" (for example
//     AutomatedProcess or an integration user) is a service account.
//   - AWS: an IAM user without a console password is a service account; the
//     root user is human and has Root set.
//
// An empty Kind means human, the safer default: human accounts get the
// stricter MFA and inactivity checks.
package graph
