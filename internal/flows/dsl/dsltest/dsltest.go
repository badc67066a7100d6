// Package dsltest locates the Serverless Workflow conformance material
// (schema, examples, CTK features) that tests read at run time.
//
// The material is not part of this repository: it is the specification's
// own (github.com/serverlessworkflow/specification, Apache-2.0), kept in a
// shared folder beside the clone as shared/conformance/serverless-workflow.
// Set VIGIL_CONFORMANCE_DIR to point elsewhere.
package dsltest

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the environment variable that overrides the lookup.
const EnvVar = "VIGIL_CONFORMANCE_DIR"

const rel = "shared/conformance/serverless-workflow"

// Dir returns the conformance folder, or fails the test with a message
// saying where the material comes from when it cannot be found.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvVar); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		t.Fatalf("%s=%s is not a directory", EnvVar, d)
	}
	if d := find(); d != "" {
		return d
	}
	t.Fatalf("Serverless Workflow conformance material not found: place the specification's schema/, examples/ and ctk/features/ "+
		"(github.com/serverlessworkflow/specification) in %s beside or above the module root, or set %s", rel, EnvVar)
	return ""
}

func find() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; {
		cand := filepath.Join(dir, rel)
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
