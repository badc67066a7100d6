package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cucumber/godog"
	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/dsl/dsltest"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/flows/engine/enginetest"
)

// TestCTK runs every scenario of the specification's conformance kit
// (ctk/features/*.feature, read from the shared conformance folder at
// test time). HTTP calls go to an in-process stub of the public APIs the
// features name.
func TestCTK(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(dsltest.Dir(t), "ctk", "features")
	stub := enginetest.NewStub()
	defer stub.Close()
	eng := engine.New(engine.Config{HTTPClient: stub.Client()})

	var passed, total int
	var out bytes.Buffer
	suite := godog.TestSuite{
		Name: "serverless-workflow-ctk",
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			s := &ctkScenario{eng: eng}
			s.register(sc)
			sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
				total++
				if err == nil {
					passed++
				}
				return ctx, nil
			})
		},
		Options: &godog.Options{
			Format:   "progress",
			Paths:    []string{dir},
			TestingT: t,
			Strict:   true,
			NoColors: true,
			Output:   &out,
		},
	}
	if status := suite.Run(); status != 0 {
		t.Errorf("conformance scenarios failed (godog status %d):\n%s", status, out.String())
	}
	t.Logf("CTK: %d of %d scenarios pass", passed, total)
	if total == 0 {
		t.Error("no scenario ran")
	}
}

type ctkScenario struct {
	eng     *engine.Engine
	wf      *dsl.Workflow
	input   any
	output  any
	fault   *engine.Fault
	err     error
	journal *engine.MemoryJournal
}

func (s *ctkScenario) register(sc *godog.ScenarioContext) {
	sc.Step(`^a workflow with definition:$`, s.definition)
	sc.Step(`^given the workflow input is:$`, s.givenInput)
	sc.Step(`^the workflow is executed$`, s.execute)
	sc.Step(`^the workflow should complete$`, s.shouldComplete)
	sc.Step(`^the workflow should complete with output:$`, s.shouldCompleteWith)
	sc.Step(`^the workflow should fault$`, s.shouldFault)
	sc.Step(`^the workflow should fault with error:$`, s.shouldFaultWith)
	sc.Step(`^the workflow output should have properties (.+)$`, s.hasProperties)
	sc.Step(`^the workflow output should have a '([^']+)' property with value:$`, s.propertyValue)
	sc.Step(`^the workflow output should have a '([^']+)' property containing (\d+) items$`, s.propertyCount)
	sc.Step(`^(\w+) should run first$`, s.runFirst)
	sc.Step(`^(\w+) should run last$`, s.runLast)
	sc.Step(`^(\w+) should run after (\w+)$`, s.runAfter)
}

func (s *ctkScenario) definition(doc *godog.DocString) error {
	w, err := dsl.Parse([]byte(doc.Content))
	if err != nil {
		return fmt.Errorf("parse workflow: %w", err)
	}
	s.wf = w
	return nil
}

func (s *ctkScenario) givenInput(doc *godog.DocString) error {
	v, err := yamlValue(doc.Content)
	if err != nil {
		return err
	}
	s.input = v
	return nil
}

func (s *ctkScenario) execute() error {
	s.journal = engine.NewMemoryJournal()
	res, err := s.eng.Run(context.Background(), s.wf, s.input, engine.RunOptions{Journal: s.journal})
	if res != nil {
		s.output = res.Output
	}
	if !errors.As(err, &s.fault) {
		s.err = err
	}
	return nil
}

func (s *ctkScenario) shouldComplete() error {
	if s.fault != nil {
		return fmt.Errorf("workflow faulted: %w", s.fault)
	}
	return s.err
}

func (s *ctkScenario) shouldCompleteWith(doc *godog.DocString) error {
	if err := s.shouldComplete(); err != nil {
		return err
	}
	want, err := yamlValue(doc.Content)
	if err != nil {
		return err
	}
	return sameJSON(want, s.output)
}

func (s *ctkScenario) shouldFault() error {
	if s.fault == nil {
		return fmt.Errorf("workflow did not fault (output %v, error %v)", s.output, s.err) //nolint:errorlint // s.err is usually nil, which %v prints plainly
	}
	return nil
}

func (s *ctkScenario) shouldFaultWith(doc *godog.DocString) error {
	if err := s.shouldFault(); err != nil {
		return err
	}
	want, err := yamlValue(doc.Content)
	if err != nil {
		return err
	}
	wm, _ := want.(map[string]any)
	got := s.fault.Object()
	for k, v := range wm {
		if err := sameJSON(v, got[k]); err != nil {
			return fmt.Errorf("error %s: %w", k, err)
		}
	}
	return nil
}

func (s *ctkScenario) hasProperties(list string) error {
	if err := s.shouldComplete(); err != nil {
		return err
	}
	for _, p := range strings.Split(list, ",") {
		p = strings.Trim(strings.TrimSpace(p), "'")
		if _, ok := property(s.output, p); !ok {
			return fmt.Errorf("output has no property %s: %s", p, jsonString(s.output))
		}
	}
	return nil
}

func (s *ctkScenario) propertyValue(name string, doc *godog.DocString) error {
	if err := s.shouldComplete(); err != nil {
		return err
	}
	want, err := yamlValue(doc.Content)
	if err != nil {
		return err
	}
	got, ok := property(s.output, name)
	if !ok {
		return fmt.Errorf("output has no property %s: %s", name, jsonString(s.output))
	}
	return sameJSON(want, got)
}

func (s *ctkScenario) propertyCount(name string, n int) error {
	if err := s.shouldComplete(); err != nil {
		return err
	}
	got, ok := property(s.output, name)
	if !ok {
		return fmt.Errorf("output has no property %s", name)
	}
	l, isList := got.([]any)
	if !isList || len(l) != n {
		return fmt.Errorf("property %s is %s, want %d items", name, jsonString(got), n)
	}
	return nil
}

// order lists the names of the top-level tasks that ran, in order.
func (s *ctkScenario) order() []string {
	var names []string
	for _, st := range s.journal.Steps() {
		if strings.Count(st.Reference, "/") == 3 && !st.Skipped {
			names = append(names, st.Name)
		}
	}
	return names
}

func (s *ctkScenario) runFirst(name string) error {
	o := s.order()
	if len(o) == 0 || o[0] != name {
		return fmt.Errorf("tasks ran in order %v, want %s first", o, name)
	}
	return nil
}

func (s *ctkScenario) runLast(name string) error {
	o := s.order()
	if len(o) == 0 || o[len(o)-1] != name {
		return fmt.Errorf("tasks ran in order %v, want %s last", o, name)
	}
	return nil
}

func (s *ctkScenario) runAfter(name, before string) error {
	o := s.order()
	for i := 1; i < len(o); i++ {
		if o[i] == name && o[i-1] == before {
			return nil
		}
	}
	return fmt.Errorf("tasks ran in order %v, want %s right after %s", o, name, before)
}

func yamlValue(s string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	return engine.Normalize(v)
}

func property(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// sameJSON compares two values as JSON documents.
func sameJSON(want, got any) error {
	var w, g any
	_ = json.Unmarshal([]byte(jsonString(want)), &w)
	_ = json.Unmarshal([]byte(jsonString(got)), &g)
	if !reflect.DeepEqual(w, g) {
		return fmt.Errorf("got %s, want %s", jsonString(got), jsonString(want))
	}
	return nil
}
