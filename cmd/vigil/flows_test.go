package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
)

// runFlowsCLI executes the vigil command line with args and returns its
// standard output and error.
func runFlowsCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return runCLIWithStdin(t, "", args...)
}

// runCLIWithStdin runs the command line with stdin as its standard input.
func runCLIWithStdin(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const cliHelper = `document:
  dsl: '1.0.0'
  namespace: demo
  name: double
  version: '1.0.0'
  title: Double It
do:
  - twice: {set: {n: '${ .n * 2 }'}}
`

const cliCaller = `document:
  dsl: '1.0.0'
  namespace: demo
  name: caller
  version: '1.0.0'
  title: Caller
  metadata:
    vigil:
      trigger:
        apiEndpoint: {security: public}
do:
  - call:
      run:
        workflow: {namespace: demo, name: double, version: '1.0.0'}
  - log: {call: tables.createRow, with: {table: Log, row: {N: '${ .n }'}}}
  - count:
      call: tables.searchRows
      with: {table: Log, where: {N: '${ .N }'}}
      output: {as: '${ {n: .rows[0].N, rows: .count} }'}
`

func TestFlowsRunAndValidate(t *testing.T) {
	t.Setenv("VIGIL_ALLOW_OUTBOUND", "")
	dir := t.TempDir()
	helper := writeFile(t, dir, "helper.yaml", cliHelper)
	caller := writeFile(t, dir, "caller.yaml", cliCaller)
	input := writeFile(t, dir, "input.json", `{"n": 21}`)

	out, _, err := runFlowsCLI(t, "flows", "run", caller, "--input", "@"+input, "--helpers", helper)
	if err != nil || strings.TrimSpace(out) != "{\n  \"n\": 42,\n  \"rows\": 1\n}" {
		t.Fatalf("run = %q, %v", out, err)
	}
	out, _, err = runFlowsCLI(t, "flows", "run", caller, "--input", `{"n": 1}`)
	if !errors.Is(err, exitCode(1)) || !strings.Contains(out, `"title": "Helper flow not found"`) {
		t.Fatalf("run without the helper = %q, %v; want the fault as JSON and exit 1", out, err)
	}
	var fault map[string]any
	if json.Unmarshal([]byte(out), &fault) != nil || fault["instance"] != "/do/0/call" {
		t.Errorf("fault output is not the error object: %s", out)
	}
	if _, _, err := runFlowsCLI(t, "flows", "run", caller, "--input", `{"n":`); err == nil || !strings.Contains(err.Error(), "--input is not valid JSON") {
		t.Errorf("bad input: %v", err)
	}

	// HTTP calls to loopback need --allow-outbound (or VIGIL_ALLOW_OUTBOUND).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"pong": true}`))
	}))
	defer srv.Close()
	ping := writeFile(t, dir, "ping.yaml", `document: {dsl: '1.0.0', namespace: demo, name: ping, version: '1.0.0'}
do:
  - ping: {call: http, with: {method: get, endpoint: '`+srv.URL+`/ping'}}
`)
	out, _, err = runFlowsCLI(t, "flows", "run", ping)
	if !errors.Is(err, exitCode(1)) || !strings.Contains(out, "communication") {
		t.Errorf("loopback call without an allowlist = %q, %v; want a communication fault", out, err)
	}
	t.Setenv("VIGIL_ALLOW_OUTBOUND", "127.0.0.0/8")
	out, _, err = runFlowsCLI(t, "flows", "run", ping)
	if err != nil || !strings.Contains(out, `"pong": true`) {
		t.Errorf("loopback call with VIGIL_ALLOW_OUTBOUND = %q, %v", out, err)
	}

	out, _, err = runFlowsCLI(t, "flows", "validate", helper, caller)
	if err != nil || !strings.Contains(out, "caller.yaml: ok (demo/caller 1.0.0)") || strings.Contains(out, "warning") {
		t.Errorf("validate = %q, %v", out, err)
	}
	out, _, err = runFlowsCLI(t, "flows", "validate", caller)
	if err != nil || !strings.Contains(out, "warning: do[0].call.run.workflow: helper flow demo/double is not among the documents given") {
		t.Errorf("validate without the helper = %q, %v", out, err)
	}
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(cliHelper, "set:", "sett:", 1))
	out, errOut, err := runFlowsCLI(t, "flows", "validate", bad, helper)
	if !errors.Is(err, exitCode(1)) || !strings.Contains(out, "bad.yaml: do[0].twice") || !strings.Contains(errOut, "1 of 2 documents are invalid") {
		t.Errorf("validate of a bad file = %q %q, %v", out, errOut, err)
	}
	// The official schema wants a literal integer status: an expression
	// there is refused with its path, as every other runtime would.
	raise := writeFile(t, dir, "raise.yaml", `document: {dsl: '1.0.0', namespace: demo, name: fail, version: '1.0.0'}
do:
  - fail:
      raise:
        error: {type: 'https://example.com/errors/x', status: '${ .code }'}
`)
	out, errOut, err = runFlowsCLI(t, "flows", "validate", raise)
	if !errors.Is(err, exitCode(1)) || !strings.Contains(out, "raise.yaml: do[0].fail.raise.error.status: expected an integer status") ||
		!strings.Contains(errOut, "1 of 1 documents are invalid") {
		t.Errorf("validate of an expression status = %q %q, %v", out, errOut, err)
	}
}

func TestFlowsManagement(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	data := filepath.Join(dir, "data")
	flowDir := filepath.Join(dir, "flows")
	os.Mkdir(flowDir, 0o700)
	writeFile(t, flowDir, "helper.yaml", cliHelper)
	writeFile(t, flowDir, "caller.yaml", strings.Replace(cliCaller, "  - log:", "  - logx:", 1))
	cli := func(args ...string) (string, error) {
		t.Helper()
		out, _, err := runFlowsCLI(t, append([]string{"--data-dir", data, "--log-level", "error"}, args...)...)
		return out, err
	}
	// The caller writes to table Log, which no bundle defines: imported
	// flows still validate (tables are looked up when flows run).
	out, err := cli("flows", "import", flowDir, "--folder", "Demo", "--on")
	if err != nil || !strings.Contains(out, "created  Caller") || !strings.Contains(out, "demo/double v1  on") {
		t.Fatalf("import = %q, %v", out, err)
	}
	out, err = cli("flows", "list", "--json")
	var list []struct {
		Title   string `json:"title"`
		On      bool   `json:"on"`
		Trigger string `json:"trigger"`
		Folder  string `json:"folder"`
	}
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].Trigger != "apiEndpoint" || !list[1].On {
		t.Fatalf("list --json = %q, %v", out, err)
	}
	if out, err = cli("flows", "off", "Double It"); err != nil || out != "Double It: off\n" {
		t.Errorf("off = %q, %v", out, err)
	}
	if _, err = cli("flows", "on", "nothing"); err == nil || !strings.Contains(err.Error(), `no flow is titled or named "nothing"`) {
		t.Errorf("on of an unknown flow: %v", err)
	}
	if _, err = cli("flows", "on", "--all"); err == nil || !strings.Contains(err.Error(), "--all needs --folder") {
		t.Errorf("--all without --folder: %v", err)
	}
	out, err = cli("flows", "export", "--folder", "Demo")
	if err != nil || !strings.Contains(out, "vigilBundle: 1") || !strings.Contains(out, "title: Double It") {
		t.Fatalf("export = %q, %v", out, err)
	}
	bundle := writeFile(t, dir, "bundle.yaml", out)
	out, err = cli("flows", "import", bundle, "--folder", "Copy")
	if err != nil || !strings.Contains(out, "folder Copy") {
		t.Fatalf("import of the export = %q, %v", out, err)
	}
	if _, err = cli("flows", "on", "Caller"); err == nil || !strings.Contains(err.Error(), "name the folder with --folder") {
		t.Errorf("ambiguous on: %v", err)
	}
	out, err = cli("flows", "on", "--folder", "Copy", "--all")
	if err != nil || !strings.Contains(out, "Caller: on") || !strings.Contains(out, "Double It: on") {
		t.Errorf("on --all = %q, %v", out, err)
	}
	out, err = cli("flows", "list", "--folder", "Copy")
	if err != nil || !strings.Contains(out, "Copy    Double It  demo/double  helper       on  1") {
		t.Errorf("list = %q, %v", out, err)
	}
}

// TestFunctionsDocumented checks that docs/functions.md has a section for
// every function flows can call.
func TestFunctionsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "functions.md"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := newStandaloneCatalog(catalog.NewMemoryTables(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range cat.Names() {
		if !strings.Contains(string(doc), "### `"+name+"`") {
			t.Errorf("docs/functions.md has no section for %s", name)
		}
	}
}

// TestFlowsImportChecksConnections imports a flow that calls a connector
// action: it validates against the connector's arguments, and --on leaves
// it off while its connection is not set.
func TestFlowsImportChecksConnections(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	flow := writeFile(t, dir, "suspend.yaml", `document:
  dsl: '1.0.0'
  namespace: demo
  name: suspend
  version: '1.0.0'
  title: Suspend
do:
  - suspend: {call: okta.suspendUser, with: {connection: Okta, user: '${ .user }'}}
`)
	out, _, err := runFlowsCLI(t, "--data-dir", filepath.Join(dir, "data"), "--log-level", "error", "flows", "import", flow, "--folder", "Demo", "--on")
	if err == nil || !strings.Contains(err.Error(), `connection "Okta"`) || !strings.Contains(out, "created  Suspend") ||
		!strings.Contains(out, `uses connection "Okta" (okta)`) {
		t.Fatalf("import --on = %q, %v", out, err)
	}
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(string(mustRead(t, flow)), "user:", "usr:", 1))
	if _, _, err := runFlowsCLI(t, "--data-dir", filepath.Join(dir, "data"), "flows", "import", bad, "--folder", "Demo"); err == nil ||
		!strings.Contains(err.Error(), "do[0].suspend.with.usr: unknown argument") {
		t.Errorf("import of a call with a misspelt argument: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
