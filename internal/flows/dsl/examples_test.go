package dsl_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/dsl/dsltest"
)

// unsupported lists the features Vigil refuses to run, each
// with the refusal's wording and the pattern that finds the feature in a
// document. An example may be refused only for a feature it really uses.
var unsupported = []struct {
	msg string
	doc *regexp.Regexp
}{
	{"task kind listen is not supported", regexp.MustCompile(`(?m)^\s*listen:`)},
	{"task kind call asyncapi is not supported", regexp.MustCompile(`(?m)^\s*call: asyncapi\s*$`)},
	{"task kind call grpc is not supported", regexp.MustCompile(`(?m)^\s*call: grpc\s*$`)},
	{"task kind call mcp is not supported", regexp.MustCompile(`(?m)^\s*call: mcp\s*$`)},
	{"is not supported: call a function of Vigil's catalog", regexp.MustCompile(`(?m)^\s*call: (\S+@)?https?://`)},
	{"task kind run container is not supported", regexp.MustCompile(`(?m)^\s*container:`)},
	{"task kind run script is not supported", regexp.MustCompile(`(?m)^\s*script:`)},
	{"task kind run shell is not supported", regexp.MustCompile(`(?m)^\s*shell:`)},
	{"schedule is not supported", regexp.MustCompile(`(?m)^schedule:`)},
	{"extensions are not supported", regexp.MustCompile(`(?m)^\s*extensions:`)},
}

// TestExamples parses every example of the specification, each its own
// subtest: an example validates, or every problem Parse reports is the
// refusal of a feature Vigil does not run and that the example uses. Any
// other error, or a refusal the document does not explain, fails it.
func TestExamples(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(dsltest.Dir(t), "examples")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	var valid int
	for _, f := range files {
		name := filepath.Base(f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = dsl.Parse(data)
		if err == nil {
			valid++
			continue
		}
		t.Run(name, func(t *testing.T) {
			var ve *dsl.ValidationError
			if !errors.As(err, &ve) || !ve.Unsupported() {
				t.Fatalf("unexpected error:\n%v", err)
			}
			for _, p := range ve.Problems {
				if !explained(p.Msg, data) {
					t.Errorf("refused %q, which is not a feature this example uses", p.Msg)
				}
			}
		})
	}
	t.Logf("%d of %d examples validate; the rest use features Vigil does not run", valid, len(files))
	if valid == 0 {
		t.Error("no example validates")
	}
}

// explained tells whether msg refuses a listed feature that doc uses.
func explained(msg string, doc []byte) bool {
	for _, u := range unsupported {
		if strings.Contains(msg, u.msg) && u.doc.Match(doc) {
			return true
		}
	}
	return false
}
