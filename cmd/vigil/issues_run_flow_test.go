package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
)

const cliOnDemand = `document:
  dsl: '1.0.0'
  namespace: demo
  name: remediate
  version: '1.0.0'
  title: Remediate
  metadata:
    vigil:
      saveAllData: true
      onDemand: true
do:
  - keep:
      set:
        got: '${ .body }'
`

// TestIssuesRunFlow checks vigil issues run-flow: it queues an execution of
// a flow marked on demand whose input body is the issue's event, and
// refuses a flow not marked, queuing nothing.
func TestIssuesRunFlow(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	data := filepath.Join(dir, "data")
	cli := func(args ...string) (string, error) {
		t.Helper()
		out, _, err := runFlowsCLI(t, append([]string{"--data-dir", data, "--log-level", "error"}, args...)...)
		return out, err
	}
	// Snapshot files are read only from <data-dir>/snapshots.
	snap := filepath.Join(data, "snapshots", "org.json")
	if err := synth.WriteSnapshotFile(snap, 20, 1, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"sources", "add", "snapshot", "--name", "demo", "--file", snap}, {"scan"}} {
		if out, err := cli(args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	out, err := cli("issues", "list", "--json", "--limit", "1")
	var issues []event.Issue
	if err != nil || json.Unmarshal([]byte(out), &issues) != nil || len(issues) != 1 {
		t.Fatalf("issues list: %v\n%s", err, out)
	}
	is := issues[0]

	flowDir := filepath.Join(dir, "flows")
	os.Mkdir(flowDir, 0o700)
	writeFile(t, flowDir, "remediate.yaml", cliOnDemand)
	writeFile(t, flowDir, "plain.yaml", strings.NewReplacer("name: remediate", "name: plain", "title: Remediate", "title: Plain",
		"      onDemand: true\n", "").Replace(cliOnDemand))
	if out, err := cli("flows", "import", flowDir, "--folder", "Demo", "--on"); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}

	if _, err := cli("issues", "run-flow", is.ID); err == nil || !strings.Contains(err.Error(), "--flow") {
		t.Errorf("run-flow without --flow: %v; want it to ask for --flow", err)
	}
	if _, err := cli("issues", "run-flow", is.ID, "--flow", "Plain"); err == nil || !strings.Contains(err.Error(), "not callable on demand") {
		t.Errorf("run-flow of a flow not on demand: %v; want a refusal", err)
	}
	out, err = cli("issues", "run-flow", is.ID, "--flow", "Remediate")
	_, execID, ok := strings.Cut(strings.TrimSpace(out), "execution ")
	if err != nil || !ok || !strings.HasPrefix(execID, "exe_") {
		t.Fatalf("run-flow: %v\n%s", err, out)
	}

	a, err := app.Open(context.Background(), app.Config{DataDir: data, LogOutput: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	svc := flows.New(a.Store, a.Box, flows.Config{})
	list, err := svc.Executions(context.Background(), flows.ExecutionFilter{Limit: 100})
	if err != nil || len(list) != 1 || list[0].ID != execID || list[0].FlowTitle != "Remediate" {
		t.Fatalf("executions: %+v, %v; want only %s of Remediate", list, err, execID)
	}
	h, err := svc.Execution(context.Background(), execID)
	if err != nil {
		t.Fatal(err)
	}
	in := fmt.Sprint(h.Execution.Input)
	for _, s := range []string{"body:map[", "title:" + is.Title, "id:" + is.ID, "affectedEntity:"} {
		if !strings.Contains(in, s) {
			t.Errorf("the execution's input %s does not hold %q", in, s)
		}
	}
}
