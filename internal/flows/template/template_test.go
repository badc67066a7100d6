package template_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/template"
)

const ispm = "identity-security-posture-management"

func TestCatalogCard(t *testing.T) {
	c, err := template.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Search("ispm"); len(got) != 1 || got[0].Name != ispm {
		t.Fatalf("Search(ispm) = %v", got)
	}
	if got := c.Search("posture okta"); len(got) != 1 {
		t.Errorf("Search(posture okta) = %v", got)
	}
	if got := c.Search("payroll"); len(got) != 0 {
		t.Errorf("Search(payroll) = %v", got)
	}
	tp, err := c.Get("Identity Security Posture Management")
	if err != nil {
		t.Fatal(err)
	}
	if tp.Title != "Identity Security Posture Management" || !slices.Contains(tp.Keywords, "ISPM") || tp.Description == "" {
		t.Errorf("card %+v", tp)
	}
	wantFlows := []string{"1.0 ISPM Event Routing Flow", "2.1 Disable Entra ID User", "2.2 Suspend Okta User",
		"2.3 Suspend Google Workspace User", "2.4 Deactivate Salesforce User", "3.1 Entra ID - Add user to a group",
		"3.2 Okta - Add user to a group", "4.1 Okta - Reset User Password Upon Next Login", "5.1 Notify Slack channel",
		"5.2 Create Jira issue"}
	if tp.FlowCount != 10 || !slices.Equal(tp.Flows, wantFlows) {
		t.Errorf("flows %d %q, want %q", tp.FlowCount, tp.Flows, wantFlows)
	}
	var conns []string
	for _, cn := range tp.Connections {
		conns = append(conns, cn.Kind+":"+cn.Name)
	}
	slices.Sort(conns)
	if want := []string{"entra:Microsoft Entra ID", "google:Google Workspace", "jira:Jira", "okta:Okta", "salesforce:Salesforce", "slack:Slack"}; !slices.Equal(conns, want) {
		t.Errorf("connections %q, want %q", conns, want)
	}
	var vars []string
	for _, v := range tp.Variables {
		vars = append(vars, v.Name+"="+v.Label)
	}
	if want := []string{"oktaMfaGroupId=Okta MFA group id", "entraMfaGroupId=Entra ID MFA group id", "slackChannel=Slack channel", "jiraProject=Jira project key"}; !slices.Equal(vars, want) {
		t.Errorf("variables %q, want %q", vars, want)
	}
	tables := map[string][]string{}
	for _, tb := range tp.Tables {
		for _, col := range tb.Columns {
			tables[tb.Name] = append(tables[tb.Name], col.Name)
		}
	}
	if want := []string{"Username", "Title", "Short Description", "Full Description", "Category", "Severity", "Detection Date",
		"Suggested Remediation", "Risk and Impact", "Tenant", "Product"}; !slices.Equal(tables["ISPM Events"], want) {
		t.Errorf("ISPM Events columns %q", tables["ISPM Events"])
	}
	if want := []string{"Username", "Error Summary", "Error Message"}; !slices.Equal(tables["Error Logging"], want) || len(tables) != 2 {
		t.Errorf("tables %q", tables)
	}
	if _, err := c.Get("payroll"); !errors.Is(err, template.ErrNotFound) || err.Error() != `there is no template "payroll"; list them with vigil templates list` {
		t.Errorf("Get(payroll) = %v", err)
	}
	if _, err := c.Get("ISPM"); !errors.Is(err, template.ErrNotFound) || err.Error() != `there is no template "ISPM"; did you mean `+ispm+"?" {
		t.Errorf("Get(ISPM) = %v", err)
	}
}

// TestFlowsValidate checks every flow as `vigil flows validate` and a
// save do (the DSL, catalog functions and their arguments, helper flows),
// with the variables set and unset.
func TestFlowsValidate(t *testing.T) {
	c, _ := template.Load()
	tp, _ := c.Get(ispm)
	cat := flows.NewCatalog(catalog.NewMemoryTables(nil))
	if err := connector.New(connector.Config{}).Register(cat); err != nil {
		t.Fatal(err)
	}
	for _, vars := range []map[string]string{nil, allVars} {
		r, err := tp.Render(vars)
		if err != nil {
			t.Fatal(err)
		}
		var all []*dsl.Workflow
		for _, f := range r.Bundle.Flows {
			w, err := dsl.Parse(f.Document)
			if err != nil {
				t.Fatalf("%s: %v", f.Source, err)
			}
			all = append(all, w)
		}
		for _, f := range r.Bundle.Flows {
			v, err := flows.Validate(context.Background(), f.Document, cat, all)
			if err != nil {
				t.Errorf("%s: %v", f.Source, err)
				continue
			}
			if len(v.Warnings) > 0 {
				t.Errorf("%s: warnings %q", f.Source, v.Warnings)
			}
			w := v.Workflow
			if (w.Document.Title == "1.0 ISPM Event Routing Flow") == w.IsHelper() {
				t.Errorf("%s: helper %v", w.Document.Title, w.IsHelper())
			}
			if !w.SaveAllData() {
				t.Errorf("%s does not save its data; the template's flows keep history", w.Document.Title)
			}
			if tr := w.Trigger(); tr != nil && (tr.APIEndpoint == nil || tr.APIEndpoint.Security != "clientToken" || tr.APIEndpoint.Response != "async") {
				t.Errorf("routing trigger %+v", tr)
			}
		}
	}
}

func TestRender(t *testing.T) {
	c, _ := template.Load()
	tp, _ := c.Get(ispm)
	r, err := tp.Render(map[string]string{"oktaMfaGroupId": "00g1a2b3c4d5e6f7g8h9", "slackChannel": "#sec-alerts"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Bundle.Flows {
		if strings.Contains(string(f.Document), "{{") {
			t.Errorf("%s keeps a placeholder", f.Source)
		}
		switch {
		case strings.Contains(f.Source, "3.2-"):
			if !strings.Contains(string(f.Document), "groupId: '00g1a2b3c4d5e6f7g8h9'") {
				t.Errorf("3.2 does not hold the group id")
			}
		case strings.Contains(f.Source, "3.1-"):
			if !strings.Contains(string(f.Document), "groupId: ''") {
				t.Errorf("3.1 does not hold an empty group id")
			}
		}
	}
	bad := []struct {
		vars map[string]string
		msg  string
	}{
		{map[string]string{"oktaGroup": "x"}, `has no variable "oktaGroup"; its variables are oktaMfaGroupId, entraMfaGroupId, slackChannel, jiraProject`},
		{map[string]string{"slackChannel": `#a' }`}, "the value of slackChannel may contain only"},
		{map[string]string{"jiraProject": `SEC" + env`}, "the value of jiraProject may contain only"},
		{map[string]string{"jiraProject": "a\nb"}, "the value of jiraProject may contain only"},
		{map[string]string{"jiraProject": "${ $secret }"}, "the value of jiraProject may contain only"},
		{map[string]string{"jiraProject": strings.Repeat("A", 201)}, "longer than 200"},
	}
	for _, b := range bad {
		if _, err := tp.Render(b.vars); err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("Render(%q) = %v, want %q", b.vars, err, b.msg)
		}
	}
}

// memInstaller keeps installed folders in memory.
type memInstaller struct {
	mu      sync.Mutex
	folders map[string]*template.Rendered
	// steal makes the first Install find its folder taken, as when
	// another admin adds the template at the same time.
	steal bool
}

func (m *memInstaller) FolderExists(_ context.Context, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.folders[name]
	return ok, nil
}

func (m *memInstaller) Install(_ context.Context, folder string, r *template.Rendered) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.steal {
		m.steal = false
		m.folders[folder] = nil
		return template.ErrFolderTaken
	}
	if _, ok := m.folders[folder]; ok {
		return template.ErrFolderTaken
	}
	m.folders[folder] = r
	return nil
}

func TestAddMakesANewFolderEachTime(t *testing.T) {
	c, _ := template.Load()
	inst := &memInstaller{folders: map[string]*template.Rendered{}}
	ctx := context.Background()
	var folders []string
	for i := 0; i < 3; i++ {
		a, err := c.Add(ctx, inst, ispm, "", map[string]string{"oktaMfaGroupId": "00g1"})
		if err != nil {
			t.Fatal(err)
		}
		folders = append(folders, a.Folder)
		if len(a.Flows) != 10 || !slices.Equal(a.Tables, []string{"ISPM Events", "Error Logging"}) ||
			!slices.Equal(a.Unset, []string{"entraMfaGroupId", "slackChannel", "jiraProject"}) {
			t.Errorf("added %+v", a)
		}
	}
	want := []string{"Identity Security Posture Management", "Identity Security Posture Management (2)", "Identity Security Posture Management (3)"}
	if !slices.Equal(folders, want) {
		t.Errorf("folders %q, want %q", folders, want)
	}
	if len(inst.folders[want[0]].Bundle.Flows) != 10 || len(inst.folders[want[1]].Bundle.Flows) != 10 {
		t.Error("a folder misses flows")
	}
	// A folder named by the admin, taken meanwhile by someone else.
	inst.steal = true
	a, err := c.Add(ctx, inst, ispm, "Remediation", nil)
	if err != nil || a.Folder != "Remediation (2)" {
		t.Errorf("Add to a folder taken meanwhile: %+v, %v", a, err)
	}
	if _, err := c.Add(ctx, inst, "nope", "", nil); !errors.Is(err, template.ErrNotFound) {
		t.Errorf("Add(nope) = %v", err)
	}
	if _, err := c.Add(ctx, inst, ispm, "", map[string]string{"slackChannel": "'"}); err == nil {
		t.Error("Add with a bad value succeeded")
	}
}
