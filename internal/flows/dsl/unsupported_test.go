package dsl_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// unsupportedDocs are documents using a DSL feature Vigil does not run, with
// the refusal Parse gives; docs/flows.md lists each refusal word for word.
var unsupportedDocs = []struct {
	doc, refusal string
}{
	{"do:\n  - w: {listen: {to: {one: {with: {type: com.example.event}}}}}\n", "task kind listen is not supported"},
	{"do:\n  - r: {run: {container: {image: alpine}}}\n", "task kind run container is not supported"},
	{"do:\n  - r: {run: {shell: {command: ls}}}\n", "task kind run shell is not supported"},
	{"do:\n  - r: {run: {script: {language: js, code: '1'}}}\n", "task kind run script is not supported"},
	{"do:\n  - c: {call: grpc, with: {proto: {endpoint: 'https://x.example/p.proto'}, service: {name: S, host: x.example}, method: M}}\n", "task kind call grpc is not supported"},
	{"do:\n  - c: {call: asyncapi, with: {document: {endpoint: 'https://x.example/a.json'}, operation: op}}\n", "task kind call asyncapi is not supported"},
	{"do:\n  - c: {call: mcp, with: {method: tools/call}}\n", "task kind call mcp is not supported"},
	{"do:\n  - c: {call: a2a, with: {method: message/send}}\n", "task kind call a2a is not supported"},
	{"do:\n  - c: {call: 'log:1.0.0@mycatalog'}\n", "task kind call of a remote catalog function (log:1.0.0@mycatalog) is not supported: call a function of Vigil's catalog by its dotted name"},
	{"use: {catalogs: {mine: {endpoint: 'https://x.example/catalog'}}}\ndo:\n  - a: {set: {x: 1}}\n", "remote function catalogs are not supported: Vigil's functions come from its built-in catalog"},
	{"use: {extensions: [{log: {extend: all}}]}\ndo:\n  - a: {set: {x: 1}}\n", "extensions are not supported"},
	{"schedule: {every: PT1H}\ndo:\n  - a: {set: {x: 1}}\n", "schedule is not supported: start flows with document.metadata.vigil.trigger or from another flow"},
	{"do:\n  - a: {wait: P1Y}\n", `ISO 8601 duration "P1Y" uses years or months, which are not supported: use weeks, days, hours, minutes or seconds`},
	{"evaluate: {language: javascript}\ndo:\n  - a: {set: {x: 1}}\n", "expression language javascript is not supported: use jq"},
	{"base: &b {set: {x: 1}}\ndo:\n  - a: {<<: *b}\n", "YAML merge keys are not supported"},
}

// TestUnsupportedDocumented checks that each feature Vigil does not run is
// refused with the message docs/flows.md gives for it.
func TestUnsupportedDocumented(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile("../../../docs/flows.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unsupportedDocs {
		_, err := dsl.Parse([]byte(header + u.doc))
		var ve *dsl.ValidationError
		if err == nil || !strings.Contains(err.Error(), u.refusal) {
			t.Errorf("%s: Parse = %v; want the refusal %q", u.doc, err, u.refusal)
		} else if errors.As(err, &ve) && !ve.Unsupported() && !strings.Contains(u.doc, "<<") {
			t.Errorf("%s: %v is not marked as an unsupported feature", u.doc, err)
		}
		if !strings.Contains(string(page), "`"+u.refusal+"`") {
			t.Errorf("docs/flows.md does not give the refusal %q", u.refusal)
		}
	}
	v08 := strings.Replace(header, "'1.0.0'", "'0.8.0'", 1) + "do:\n  - a: {set: {x: 1}}\n"
	const refusal = "DSL version 0.8.0 is not supported: Vigil runs DSL 1.x documents"
	if _, err := dsl.Parse([]byte(v08)); err == nil || !strings.Contains(err.Error(), refusal) || !strings.Contains(string(page), "`"+refusal+"`") {
		t.Errorf("DSL 0.8: %v; want %q in the refusal and in docs/flows.md", err, refusal)
	}
}
