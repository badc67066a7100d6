package dsl_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

const header = `document:
  dsl: '1.0.0'
  namespace: test
  name: sample
  version: '1.0.0'
`

func TestParseValid(t *testing.T) {
	t.Parallel()
	w, err := dsl.Parse([]byte(header + `do:
  - first:
      set:
        a: ${ .x + 1 }
        b: literal
  - loop:
      for:
        each: color
        in: .colors
      while: $index < 3
      metadata:
        vigil:
          concurrency: 1
      do:
        - inner:
            set:
              c: ${ $color }
  - pick:
      switch:
        - red:
            when: .color == "red"
            then: first
        - other:
            then: end
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := len(w.Do); got != 3 {
		t.Fatalf("len(Do) = %d, want 3", got)
	}
	set := w.Do[0].Task
	if set.Kind != dsl.KindSet || set.Set.Static {
		t.Errorf("first task: kind %s static %v, want set with expressions", set.Kind, set.Set.Static)
	}
	loop := w.Do[1].Task
	if loop.Kind != dsl.KindFor || loop.For.Each != "color" || loop.For.At != "index" || loop.For.Concurrency != 1 {
		t.Errorf("loop = %+v", loop.For)
	}
	if loop.Line != 11 {
		t.Errorf("loop line = %d, want 11", loop.Line)
	}
	if w.Do[2].Task.Switch[0].When == nil || w.Do[2].Task.Switch[1].When != nil {
		t.Errorf("switch cases not read as written")
	}
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	w, err := dsl.Parse([]byte(`{"document":{"dsl":"1.0.0","namespace":"ns","name":"j","version":"0.1.0"},
"do":[{"s":{"set":{"a":"${ 1 }"}}}]}`))
	if err != nil {
		t.Fatalf("Parse JSON: %v", err)
	}
	if w.Document.Name != "j" || w.Do[0].Name != "s" {
		t.Errorf("got %+v", w.Document)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"invalid yaml", "document: [\n  - a\n b: c", []string{"invalid YAML or JSON", "(line "}},
		{"empty", "", []string{"document is empty"}},
		{"not an object", "- a\n- b\n", []string{"expected object (line 1)"}},
		{"missing do", header, []string{"do: required property is missing"}},
		{"missing document fields", "document: {dsl: '1.0.0'}\ndo:\n  - a: {set: {x: 1}}\n", []string{
			"document.namespace: required property is missing", "document.name: required property is missing"}},
		{"old dsl", strings.Replace(header, "'1.0.0'", "'0.8.0'", 1) + "do:\n  - a: {set: {x: 1}}\n", []string{"DSL version 0.8.0 is not supported"}},
		{"unknown kind", header + "do:\n  - a:\n      frobnicate: {}\n", []string{"do[0].a: unknown task kind", "found frobnicate", "(line 8)"}},
		{"two kinds", header + "do:\n  - a:\n      set: {x: 1}\n      wait: PT1S\n", []string{"a task has exactly one kind"}},
		{"unknown property", header + "do:\n  - a:\n      set: {x: 1}\n      colour: red\n", []string{"do[0].a.colour: unknown property (line 9)"}},
		{"jq syntax", header + "do:\n  - a:\n      set:\n        x: ${ .a | }\n", []string{"do[0].a.set.x: invalid jq expression", "(line 9)"}},
		{"jq syntax in if", header + "do:\n  - a:\n      if: .a ==\n      set: {x: 1}\n", []string{"do[0].a.if: invalid jq expression"}},
		{"jq unknown function", header + "do:\n  - a:\n      set:\n        x: ${ nosuchfn(1) }\n", []string{"invalid jq expression", "nosuchfn"}},
		{"jq unknown variable", header + "do:\n  - a:\n      set:\n        x: ${ $nope }\n", []string{"invalid jq expression", "$nope"}},
		{"duplicate task", header + "do:\n  - a: {set: {x: 1}}\n  - a: {set: {x: 2}}\n", []string{"do[1].a: duplicate task name a"}},
		{"unknown then", header + "do:\n  - a:\n      set: {x: 1}\n      then: b\n", []string{"do[0].a.then: then refers to task b, which is not in the same task list"}},
		{"then other depth", header + "do:\n  - a:\n      do:\n        - inner: {set: {x: 1}, then: b}\n  - b: {set: {x: 1}}\n", []string{"then refers to task b"}},
		{"switch unknown target", header + "do:\n  - a:\n      switch:\n        - c1: {when: .x, then: nowhere}\n", []string{"do[0].a.switch[0].c1.then: then refers to task nowhere"}},
		{"expected string", header + "do:\n  - suspendUser:\n      call: http\n      with:\n        method: 14\n        endpoint: https://x.example\n", []string{"do[0].suspendUser.with.method: expected string (line 10)"}},
		{"listen", header + "do:\n  - a:\n      listen:\n        to: {one: {with: {type: x}}}\n", []string{"task kind listen is not supported"}},
		{"grpc", header + "do:\n  - a:\n      call: grpc\n      with: {}\n", []string{"task kind call grpc is not supported"}},
		{"asyncapi", header + "do:\n  - a:\n      call: asyncapi\n      with: {}\n", []string{"task kind call asyncapi is not supported"}},
		{"mcp", header + "do:\n  - a:\n      call: mcp\n      with: {}\n", []string{"task kind call mcp is not supported"}},
		{"run shell", header + "do:\n  - a:\n      run:\n        shell: {command: ls}\n", []string{"task kind run shell is not supported"}},
		{"run container", header + "do:\n  - a:\n      run:\n        container: {image: x}\n", []string{"task kind run container is not supported"}},
		{"run script", header + "do:\n  - a:\n      run:\n        script: {language: js, code: x}\n", []string{"task kind run script is not supported"}},
		{"bad duration", header + "do:\n  - a:\n      wait: PT\n", []string{"invalid ISO 8601 duration"}},
		{"month duration", header + "do:\n  - a:\n      wait: P1M\n", []string{"years or months"}},
		{"raise unknown ref", header + "do:\n  - a:\n      raise:\n        error: nope\n", []string{"error nope is not defined under use.errors"}},
		{"raise missing status", header + "do:\n  - a:\n      raise:\n        error: {type: https://e.example/x}\n", []string{"do[0].a.raise.error.status: required property is missing"}},
		{"unknown auth ref", header + "do:\n  - a:\n      call: http\n      with:\n        method: get\n        endpoint:\n          uri: https://x.example\n          authentication: {use: nope}\n", []string{"authentication nope is not defined"}},
		{"bad endpoint", header + "do:\n  - a:\n      call: http\n      with:\n        method: get\n        endpoint: not a uri\n", []string{"expected an absolute URI"}},
		{"concurrency on set", header + "do:\n  - a:\n      set: {x: 1}\n      metadata: {vigil: {concurrency: 2}}\n", []string{"concurrency applies to for tasks only"}},
		{"concurrency with while", header + "do:\n  - a:\n      for: {in: .x}\n      while: .ok\n      metadata: {vigil: {concurrency: 2}}\n      do:\n        - b: {set: {x: 1}}\n", []string{"cannot be combined with while"}},
		{"bad trigger", strings.Replace(header, "version: '1.0.0'\n", "version: '1.0.0'\n  metadata:\n    vigil:\n      trigger:\n        apiEndpoint:\n          security: everyone\n", 1) + "do:\n  - a: {set: {x: 1}}\n",
			[]string{"document.metadata.vigil.trigger.apiEndpoint.security: expected clientToken, oauth2 or public"}},
		{"schedule", header + "schedule: {cron: '0 0 * * *'}\ndo:\n  - a: {set: {x: 1}}\n", []string{"schedule is not supported"}},
		{"alias expansion", header + "x: &a [1,1,1,1,1,1,1,1,1,1]\n" + billionLaughs() + "do:\n  - a:\n      set:\n        v: *i\n",
			[]string{"document expands to more than"}},
		{"several problems", header + "do:\n  - a:\n      set:\n        x: ${ ( }\n  - b:\n      wait: nope\n", []string{"do[0].a.set.x", "do[1].b.wait"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dsl.Parse([]byte(tt.doc))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var ve *dsl.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *dsl.ValidationError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// billionLaughs builds YAML aliases that expand tenfold per level.
func billionLaughs() string {
	var b strings.Builder
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(name + ": &" + name + " [")
		for k := 0; k < 10; k++ {
			if k > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	return b.String()
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	_, err := dsl.Parse([]byte(header + "do:\n  - a:\n      listen:\n        to: {one: {with: {type: x}}}\n"))
	var ve *dsl.ValidationError
	if !errors.As(err, &ve) || !ve.Unsupported() {
		t.Errorf("listen: Unsupported() = false, want true (%v)", err)
	}
	_, err = dsl.Parse([]byte(header + "do:\n  - a:\n      frob: 1\n"))
	if !errors.As(err, &ve) || ve.Unsupported() {
		t.Errorf("unknown kind: Unsupported() = true, want false (%v)", err)
	}
}

func TestParseISODuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"PT30S", 30 * time.Second, false},
		{"PT1.5S", 1500 * time.Millisecond, false},
		{"P1DT2H", 26 * time.Hour, false},
		{"P2W", 14 * 24 * time.Hour, false},
		{"PT1H30M", 90 * time.Minute, false},
		{"P", 0, true},
		{"PT", 0, true},
		{"P1Y", 0, true},
		{"P1M", 0, true},
		{"30s", 0, true},
		{"P1DT", 0, true},
	}
	for _, tt := range tests {
		got, err := dsl.ParseISODuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseISODuration(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestVigilMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		meta     string
		helper   bool
		security string
		response string
		save     bool
	}{
		{"helper", "", true, "", "", false},
		{"defaults", "    vigil:\n      trigger:\n        apiEndpoint: {}\n", false, "clientToken", "sync", false},
		{"async public save", "    vigil:\n      saveAllData: true\n      trigger:\n        apiEndpoint:\n          security: public\n          response: async\n", false, "public", "async", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := header
			if tt.meta != "" {
				doc = strings.Replace(header, "version: '1.0.0'\n", "version: '1.0.0'\n  metadata:\n"+tt.meta, 1)
			}
			w, err := dsl.Parse([]byte(doc + "do:\n  - a: {set: {x: 1}}\n"))
			if err != nil {
				t.Fatal(err)
			}
			if w.IsHelper() != tt.helper || w.SaveAllData() != tt.save {
				t.Errorf("helper %v save %v, want %v %v", w.IsHelper(), w.SaveAllData(), tt.helper, tt.save)
			}
			if tr := w.Trigger(); tr != nil {
				if tr.APIEndpoint.Security != tt.security || tr.APIEndpoint.Response != tt.response {
					t.Errorf("trigger %+v", tr.APIEndpoint)
				}
				// Read once by Parse: the invoke endpoint asks on every
				// request.
				if again := w.Trigger(); again != tr {
					t.Errorf("Trigger read the document again: %p, then %p", tr, again)
				}
			}
		})
	}
}

func TestOnDemand(t *testing.T) {
	t.Parallel()
	parse := func(meta string) (*dsl.Workflow, error) {
		doc := header
		if meta != "" {
			doc = strings.Replace(header, "version: '1.0.0'\n", "version: '1.0.0'\n  metadata:\n"+meta, 1)
		}
		return dsl.Parse([]byte(doc + "do:\n  - a: {set: {x: 1}}\n"))
	}
	for meta, want := range map[string]bool{"": false, "    vigil:\n      onDemand: true\n": true, "    vigil:\n      onDemand: false\n": false} {
		w, err := parse(meta)
		if err != nil {
			t.Fatal(err)
		}
		if w.OnDemand() != want {
			t.Errorf("%q: OnDemand %v, want %v", meta, w.OnDemand(), want)
		}
	}
	_, err := parse("    vigil:\n      onDemand: 'yes'\n")
	if err == nil || !strings.Contains(err.Error(), "document.metadata.vigil.onDemand") {
		t.Errorf("a string onDemand: %v, want a problem at document.metadata.vigil.onDemand", err)
	}
}

func TestSignatureOption(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(header, "version: '1.0.0'\n", `version: '1.0.0'
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          oktaVerification: true
          signature: {scheme: hmac-sha256, secret: hookKey, header: X-Signature}
`, 1) + "do:\n  - a: {set: {x: 1}}\n"
	w, err := dsl.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	a := w.Trigger().APIEndpoint
	if !a.OktaVerification || a.Signature == nil || a.Signature.Secret != "hookKey" || a.Signature.Header != "X-Signature" {
		t.Errorf("api endpoint = %+v", a)
	}
	// A header no request can carry, or one that would break out of the
	// console's curl example, is refused where it is written.
	for _, h := range []string{"'X Signature'", "'X$(touch p)'", "'X-Sig\"'"} {
		_, err := dsl.Parse([]byte(strings.Replace(doc, "header: X-Signature", "header: "+h, 1)))
		if err == nil || !strings.Contains(err.Error(), "signature.header") {
			t.Errorf("header %s: err = %v, want a problem at signature.header", h, err)
		}
	}
}

func TestEndpointLimits(t *testing.T) {
	t.Parallel()
	doc := func(limits string) []byte {
		return []byte(strings.Replace(header, "version: '1.0.0'\n", `version: '1.0.0'
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          limits: `+limits+"\n", 1) + "do:\n  - a: {set: {x: 1}}\n")
	}
	w, err := dsl.Parse(doc("{ratePerSecond: 2.5, burst: 0, maxBacklog: 5000}"))
	if err != nil {
		t.Fatal(err)
	}
	l := w.Trigger().APIEndpoint.Limits
	if l == nil || l.RatePerSecond == nil || *l.RatePerSecond != 2.5 || l.Burst == nil || *l.Burst != 0 ||
		l.MaxBacklog == nil || *l.MaxBacklog != 5000 {
		t.Fatalf("limits = %+v", l)
	}
	w, err = dsl.Parse(doc("{maxBacklog: 0}"))
	if err != nil {
		t.Fatal(err)
	}
	if l := w.Trigger().APIEndpoint.Limits; l.RatePerSecond != nil || l.Burst != nil || *l.MaxBacklog != 0 {
		t.Errorf("absent limits are not nil: %+v", l)
	}
	_, err = dsl.Parse(doc("{}"))
	if err != nil {
		t.Fatal(err)
	}
	w, _ = dsl.Parse([]byte(header + "do:\n  - a: {set: {x: 1}}\n"))
	if w.Trigger() != nil {
		t.Fatalf("trigger of a helper = %+v", w.Trigger())
	}
	for _, bad := range []string{"{ratePerSecond: -1}", "{burst: 1.5}", "{maxBacklog: lots}", "{rate: 5}", "[1, 2]"} {
		_, err := dsl.Parse(doc(bad))
		if err == nil || !strings.Contains(err.Error(), "trigger.apiEndpoint.limits") {
			t.Errorf("limits %s: err = %v; want a problem at trigger.apiEndpoint.limits", bad, err)
		}
	}
}

func TestSchemaValidate(t *testing.T) {
	t.Parallel()
	w, err := dsl.Parse([]byte(header + `input:
  schema:
    document:
      type: object
      required: [id]
      properties:
        id: {type: integer}
do:
  - a: {set: {x: 1}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Input.Schema.Validate(map[string]any{"id": 3}); err != nil {
		t.Errorf("valid input rejected: %v", err)
	}
	if err := w.Input.Schema.Validate(map[string]any{"id": "x"}); err == nil {
		t.Error("invalid input accepted")
	}
}

// TestAllowedOrigins checks the API Endpoint's list of browser origins:
// origins only (no path, no trailing slash) or "*", kept lower-cased.
func TestAllowedOrigins(t *testing.T) {
	t.Parallel()
	meta := func(list string) string {
		return strings.Replace(header, "version: '1.0.0'\n", "version: '1.0.0'\n  metadata:\n    vigil:\n      trigger:\n        apiEndpoint:\n          allowedOrigins: "+list+"\n", 1) +
			"do:\n  - a: {set: {x: 1}}\n"
	}
	w, err := dsl.Parse([]byte(meta("['https://App.example.com', 'http://127.0.0.1:3000', '*']")))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Trigger().APIEndpoint.AllowedOrigins; strings.Join(got, " ") != "https://app.example.com http://127.0.0.1:3000 *" {
		t.Errorf("allowed origins %q", got)
	}
	if w, _ := dsl.Parse([]byte(meta("[]"))); w == nil || len(w.Trigger().APIEndpoint.AllowedOrigins) != 0 {
		t.Error("an empty list should allow no origin")
	}
	for _, bad := range []string{"'https://app.example.com'", "['https://app.example.com/']", "['https://app.example.com/page']", "['ftp://x.example.com']", "['app.example.com']", "[1]"} {
		_, err := dsl.Parse([]byte(meta(bad)))
		if err == nil || !strings.Contains(err.Error(), "allowedOrigins") {
			t.Errorf("allowedOrigins %s: %v, want a refusal naming allowedOrigins", bad, err)
		}
	}
}
