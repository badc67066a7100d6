package connector_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

func TestFunctionsAreDocumented(t *testing.T) {
	b := setup(t)
	want := []string{"entra.addGroupMember", "entra.disableUser", "google.suspendUser", "http.request", "jira.createIssue",
		"okta.addUserToGroup", "okta.clearUserSessions", "okta.expirePassword", "okta.suspendUser", "okta.unsuspendUser",
		"salesforce.deactivateUser", "slack.postMessage"}
	var got []string
	for _, f := range b.cons.Functions() {
		got = append(got, f.Name)
		if f.Summary == "" || len(f.Args) == 0 || f.Args[0].Name != "connection" || len(f.Output) == 0 {
			t.Errorf("%s is not documented: %+v", f.Name, f)
		}
		for _, a := range append(slices.Clone(f.Args), f.Output...) {
			if a.Doc == "" || a.Type == "" {
				t.Errorf("%s: argument %s has no doc or type", f.Name, a.Name)
			}
		}
		if !b.cons.Lookup(f.Name) {
			t.Errorf("Lookup(%s) = false", f.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("functions %q, want %q", got, want)
	}
	if b.cons.Lookup("okta.deleteUser") {
		t.Error("Lookup of an unknown function = true")
	}
}

func TestCheckNamesBadArgumentsBeforeRun(t *testing.T) {
	b := setup(t)
	w, err := dsl.Parse([]byte(`document: {dsl: '1.0.0', namespace: t, name: f, version: '1.0.0'}
do:
  - suspend:
      call: okta.suspendUser
      with:
        connection: Okta
        usr: ali@example.com
  - post:
      call: slack.postMessage
      with:
        connection: Slack
        channel: 42
        text: ${ .text }
  - fine:
      call: okta.addUserToGroup
      with: {connection: Okta, user: '${ .user }', groupId: '${ $context.group }'}
`))
	if err != nil {
		t.Fatal(err)
	}
	err = engine.New(engine.Config{Catalog: b.cons}).Check(context.Background(), w)
	var ve *dsl.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Check = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"do[0].suspend.with.user: required",
		"do[0].suspend.with.usr: unknown argument; okta.suspendUser takes connection, user (line 7)",
		"do[1].post.with.channel: expected a string, got a number (line 12)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("check says %q, want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "do[2]") || strings.Contains(msg, "post.with.text") {
		t.Errorf("check complains about arguments given as expressions: %q", msg)
	}
}

func TestUnwiredConnectorsFaultClearly(t *testing.T) {
	cons := connector.New(connector.Config{})
	_, err := cons.Call(context.Background(), "okta.suspendUser", map[string]any{"connection": "Okta", "user": "x"}, nil)
	var f *engine.Fault
	if !errors.As(err, &f) || f.Type != engine.ErrConfiguration || !strings.Contains(f.Detail, "okta.suspendUser cannot run here") {
		t.Errorf("Call = %v", err)
	}
}

// TestDocsListEveryFunction keeps docs/connectors.md in step with the code:
// each function has a section listing each of its arguments and outputs.
func TestDocsListEveryFunction(t *testing.T) {
	doc, err := os.ReadFile("../../docs/connectors.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := strings.Split(string(doc), "\n### ")
	for _, f := range connector.New(connector.Config{}).Functions() {
		i := slices.IndexFunc(sections, func(s string) bool { return strings.HasPrefix(s, "`"+f.Name+"`") })
		if i < 0 {
			t.Errorf("docs/connectors.md has no section for %s", f.Name)
			continue
		}
		for _, a := range append(slices.Clone(f.Args), f.Output...) {
			if !strings.Contains(sections[i], "| `"+a.Name+"` |") {
				t.Errorf("docs/connectors.md: %s does not list %s", f.Name, a.Name)
			}
		}
		if !strings.Contains(sections[i], f.Summary) {
			t.Errorf("docs/connectors.md: the summary of %s differs from the code's", f.Name)
		}
	}
}
