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
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// EnvVar names the environment variable that overrides the lookup.
const EnvVar = "VIGIL_CONFORMANCE_DIR"

const rel = "shared/conformance/serverless-workflow"

// Dir returns the conformance folder, or fails the test with a message
// saying where the material comes from when it cannot be found.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvVar); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() { //nolint:gosec // G703: the developer names the directory
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

// Schema compiles the specification's JSON Schema (schema/workflow.yaml of
// the conformance folder). Tests validate documents with it to compare
// Vigil's own validator with the official rules; it is never used outside
// tests.
func Schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(t), "schema", "workflow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(goRegexpWithoutLookaround)
	const loc = "https://serverlessworkflow.io/schemas/workflow.yaml"
	if err := c.AddResource(loc, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(loc)
	if err != nil {
		t.Fatalf("compile the official schema: %v", err)
	}
	return s
}

// ValidateYAML decodes a YAML (or JSON) flow document and validates it
// against schema; it fails the test if the document does not decode.
func ValidateYAML(t testing.TB, schema *jsonschema.Schema, doc []byte) error {
	t.Helper()
	var inst any
	if err := yaml.Unmarshal(doc, &inst); err != nil {
		t.Fatalf("decode flow document: %v", err)
	}
	return schema.Validate(inst)
}

// goRegexpWithoutLookaround compiles the schema's patterns with Go's
// regexp after dropping the two lookarounds of the ISO 8601 duration
// pattern, which RE2 lacks. The pattern then also accepts "P" and "PT";
// Vigil's parser refuses those itself.
func goRegexpWithoutLookaround(s string) (jsonschema.Regexp, error) {
	s = strings.NewReplacer("(?!$)", "", "(?=\\d)", "").Replace(s)
	return regexp.Compile(s)
}
