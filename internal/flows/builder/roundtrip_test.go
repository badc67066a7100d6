package builder_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/builder"
	"github.com/vigil-ispm/vigil/internal/flows/dsl/dsltest"
)

// roundTrip decodes doc, writes its cards as the builder's form posts them,
// reads the form back and encodes it: the result must hold the same data.
// It returns the reasons a document is read-only, if any.
func roundTrip(t *testing.T, name string, doc []byte) []string {
	t.Helper()
	f, err := builder.Decode(doc)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(f.Unsupported) > 0 {
		if _, err := f.Encode(); err == nil {
			t.Errorf("%s: a read-only flow was encoded", name)
		}
		return f.Unsupported
	}
	direct, err := f.Encode()
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	if eq, err := builder.Equal(doc, direct); err != nil || !eq {
		t.Errorf("%s: decode → encode changed the document (%v):\n%s", name, err, direct)
	}
	base, _ := builder.Decode(doc)
	base.Attach(builder.Cards(builder.Values(f.Cards)))
	viaForm, err := base.Encode()
	if err != nil {
		t.Fatalf("%s: encode after the form: %v", name, err)
	}
	if eq, err := builder.Equal(doc, viaForm); err != nil || !eq {
		t.Errorf("%s: decode → form → encode changed the document (%v):\n%s", name, err, viaForm)
	}
	if string(viaForm) != string(direct) {
		t.Errorf("%s: the form round trip wrote other YAML than the direct one:\n%s\n----\n%s", name, viaForm, direct)
	}
	return nil
}

// TestRoundTripTemplates: every flow of every template bundle opens in the
// builder and comes back unchanged, comments included.
func TestRoundTripTemplates(t *testing.T) {
	files, err := filepath.Glob("../template/bundles/*/flows/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		if filepath.Base(file) == "bundle.yaml" {
			continue
		}
		n++
		doc, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if reasons := roundTrip(t, file, doc); reasons != nil {
			t.Errorf("%s opens read-only: %s", file, strings.Join(reasons, " "))
			continue
		}
		f, _ := builder.Decode(doc)
		out, _ := f.Encode()
		if strings.Count(string(out), "#") < strings.Count(string(doc), "\n  #") {
			t.Errorf("%s: comments were lost:\n%s", file, out)
		}
	}
	if n < 10 {
		t.Fatalf("found %d template flows, want the ISPM template's 10", n)
	}
}

// TestRoundTripExamples: every example document of the specification
// either round-trips through the builder or is reported read-only with a
// reason; the documents with for, fork, emit or listen tasks are the
// read-only ones.
func TestRoundTripExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(dsltest.Dir(t), "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	sort.Strings(files)
	var ok, readOnly []string
	for _, file := range files {
		doc, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(file)
		reasons := roundTrip(t, name, doc)
		if reasons == nil {
			ok = append(ok, name)
			continue
		}
		readOnly = append(readOnly, name+": "+strings.Join(reasons, " "))
		text := string(doc)
		if !strings.Contains(text, "for:") && !strings.Contains(text, "fork:") && !strings.Contains(text, "emit:") &&
			!strings.Contains(text, "listen:") && !strings.Contains(text, "run:") && !strings.Contains(text, "&") {
			t.Errorf("%s is read-only without a for, fork, emit, listen, run or anchor: %s", name, strings.Join(reasons, " "))
		}
	}
	t.Logf("%d examples round-trip:\n  %s", len(ok), strings.Join(ok, "\n  "))
	t.Logf("%d examples open read-only:\n  %s", len(readOnly), strings.Join(readOnly, "\n  "))
	if len(ok) < len(files)/2 {
		t.Errorf("only %d of %d examples round-trip", len(ok), len(files))
	}
}
