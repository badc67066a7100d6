package dsl_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/dsl/dsltest"
)

// TestExamples parses every example of the specification: each either
// validates or is refused because it uses a feature Vigil does not run.
// Any other error fails the test.
func TestExamples(t *testing.T) {
	dir := filepath.Join(dsltest.Dir(t), "examples")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	sort.Strings(files)
	var valid, refused []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		_, err = dsl.Parse(data)
		var ve *dsl.ValidationError
		switch {
		case err == nil:
			valid = append(valid, name)
		case errors.As(err, &ve) && ve.Unsupported():
			refused = append(refused, name+": "+strings.ReplaceAll(ve.Error(), "\n", "; "))
		default:
			t.Errorf("%s: unexpected error:\n%v", name, err)
		}
	}
	t.Logf("%d examples validate:\n  %s", len(valid), strings.Join(valid, "\n  "))
	t.Logf("%d examples are refused as not supported:\n  %s", len(refused), strings.Join(refused, "\n  "))
	if len(valid) == 0 {
		t.Error("no example validates")
	}
}
