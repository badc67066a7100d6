package dsl

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// kindKeys are the properties that decide a task's kind.
var kindKeys = []string{"call", "do", "fork", "emit", "for", "listen", "raise", "run", "set", "switch", "try", "wait"}

var baseKeys = []string{"if", "input", "output", "export", "timeout", "then", "metadata"}

func (p *parser) taskList(n *yaml.Node, path string, scope []string, use *Use) TaskList {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected a list of named tasks")
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, path, "expected at least one task")
		return nil
	}
	list := make(TaskList, 0, len(n.Content))
	names := map[string]bool{}
	for i, item := range n.Content {
		ip := index(path, i)
		item = resolve(item)
		if item == nil || item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			p.errorf(item, ip, "expected an object with exactly one task name")
			continue
		}
		k, v := item.Content[0], item.Content[1]
		name := k.Value
		tp := join(ip, name)
		if k.Tag != "!!str" || name == "" {
			p.errorf(k, ip, "task name must be a string")
			continue
		}
		if names[name] {
			p.errorf(k, tp, "duplicate task name %s", name)
		}
		names[name] = true
		if name == DirectiveContinue || name == DirectiveExit || name == DirectiveEnd {
			p.errorf(k, tp, "task name %s is a flow directive", name)
		}
		t := p.task(v, tp, scope, use)
		if t == nil {
			continue
		}
		t.Line = k.Line
		list = append(list, &NamedTask{Name: name, Task: t})
	}
	// then targets must be in the same list (the specification forbids
	// jumping to another depth).
	for i, nt := range list {
		tp := join(index(path, i), nt.Name)
		p.checkDirective(list, nt.Task.Then, tp+".then", nt.Task.Line)
		for j, c := range nt.Task.Switch {
			p.checkDirective(list, c.Then, fmt.Sprintf("%s.switch[%d].%s.then", tp, j, c.Name), nt.Task.Line)
		}
	}
	return list
}

func (p *parser) checkDirective(list TaskList, then, path string, line int) {
	switch then {
	case "", DirectiveContinue, DirectiveExit, DirectiveEnd:
		return
	}
	if list.Index(then) < 0 {
		p.problems = append(p.problems, Problem{Path: path, Line: line, Msg: fmt.Sprintf("then refers to task %s, which is not in the same task list", then)})
	}
}

func (p *parser) task(n *yaml.Node, path string, scope []string, use *Use) *Task {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	var present []string
	for _, k := range kindKeys {
		if get(fs, k) != nil {
			present = append(present, k)
		}
	}
	kind := ""
	switch {
	case contains(present, "for"):
		kind = "for"
	case contains(present, "try"):
		kind = "try"
	case len(present) == 1:
		kind = present[0]
	case len(present) == 0:
		keys := make([]string, 0, len(fs))
		for _, f := range fs {
			keys = append(keys, f.key)
		}
		sort.Strings(keys)
		p.errorf(n, path, "unknown task kind: expected one of call, do, emit, for, fork, raise, run, set, switch, try, wait (found %s)", strings.Join(keys, ", "))
		return nil
	default:
		p.errorf(n, path, "a task has exactly one kind, found %s", strings.Join(present, " and "))
		return nil
	}
	if kind == "listen" {
		p.errorf(n, path, "task kind listen is not supported")
		return nil
	}

	t := &Task{Kind: Kind(kind)}
	if def, ok := p.raw(n, path).(map[string]any); ok {
		t.Definition = def
	}
	var kindSpecific []string
	switch t.Kind {
	case KindCall:
		kindSpecific = []string{"call", "with"}
	case KindFor:
		kindSpecific = []string{"for", "while", "do"}
	case KindTry:
		kindSpecific = []string{"try", "catch"}
	default:
		kindSpecific = []string{kind}
	}
	p.allowed(fs, path, append(append([]string{}, baseKeys...), kindSpecific...)...)

	// Base properties.
	if v := get(fs, "if"); v != nil {
		t.If = p.strictExpr(v, join(path, "if"), scope)
	}
	if v := get(fs, "input"); v != nil {
		t.Input = p.input(v, join(path, "input"), scope)
	}
	if v := get(fs, "output"); v != nil {
		t.Output = p.output(v, join(path, "output"), scope)
	}
	if v := get(fs, "export"); v != nil {
		t.Export = p.export(v, join(path, "export"), scope)
	}
	if v := get(fs, "timeout"); v != nil {
		t.Timeout = p.timeout(v, join(path, "timeout"), use)
	}
	if v := get(fs, "then"); v != nil {
		t.Then = p.str(v, join(path, "then"))
	}
	if v := get(fs, "metadata"); v != nil {
		t.Metadata, _ = p.object(v, join(path, "metadata"))
	}

	kp := join(path, kind)
	kn := get(fs, kind)
	switch t.Kind {
	case KindCall:
		t.Call = p.call(kn, get(fs, "with"), path, scope, use)
	case KindDo:
		t.Do = p.taskList(kn, kp, scope, use)
	case KindFork:
		t.Fork = p.fork(kn, kp, scope, use)
	case KindEmit:
		t.Emit = p.emit(kn, kp, scope)
	case KindFor:
		t.For, t.Do = p.forTask(fs, path, scope, use, t.Metadata)
	case KindRaise:
		t.Raise = p.raise(kn, kp, scope, use)
	case KindRun:
		t.Run = p.run(kn, kp, scope)
	case KindSet:
		kn = resolve(kn)
		if kn != nil && kn.Kind == yaml.ScalarNode && kn.Tag == "!!str" {
			if src, ok := IsExpr(kn.Value); ok {
				t.Set = &Template{Value: p.compile(kn, kp, src, scope)}
				break
			}
			p.errorf(kn, kp, "expected an object or a runtime expression")
			break
		}
		if kn == nil || kn.Kind != yaml.MappingNode || len(kn.Content) == 0 {
			p.errorf(kn, kp, "expected a non-empty object or a runtime expression")
			break
		}
		t.Set = p.template(kn, kp, scope)
	case KindSwitch:
		t.Switch = p.switchCases(kn, kp, scope)
	case KindTry:
		t.Try = p.try(fs, path, scope, use)
	case KindWait:
		t.Wait = p.duration(kn, kp, scope)
	}
	if t.Kind != KindFor {
		if c, ok := t.Metadata["vigil"].(map[string]any); ok {
			if _, has := c["concurrency"]; has {
				p.errorf(get(fs, "metadata"), join(path, "metadata.vigil.concurrency"), "concurrency applies to for tasks only")
			}
		}
	}
	return t
}

func (p *parser) fork(n *yaml.Node, path string, scope []string, use *Use) *Fork {
	f := &Fork{}
	fs, ok := p.fields(n, path)
	if !ok {
		return f
	}
	p.allowed(fs, path, "branches", "compete")
	if b := get(fs, "branches"); b != nil {
		f.Branches = p.taskList(b, join(path, "branches"), scope, use)
	} else {
		p.errorf(n, join(path, "branches"), "required property is missing")
	}
	if c := get(fs, "compete"); c != nil {
		f.Compete = p.boolean(c, join(path, "compete"))
	}
	return f
}

func (p *parser) emit(n *yaml.Node, path string, scope []string) *Emit {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	p.allowed(fs, path, "event")
	ev := get(fs, "event")
	if ev == nil {
		p.errorf(n, join(path, "event"), "required property is missing")
		return nil
	}
	ep := join(path, "event")
	efs, ok := p.fields(ev, ep)
	if !ok {
		return nil
	}
	p.allowed(efs, ep, "with")
	with := get(efs, "with")
	if with == nil {
		p.errorf(ev, join(ep, "with"), "required property is missing")
		return nil
	}
	wp := join(ep, "with")
	wfs, ok := p.fields(with, wp)
	if !ok {
		return nil
	}
	for _, req := range []string{"source", "type"} {
		if get(wfs, req) == nil {
			p.errorf(with, join(wp, req), "required property is missing")
		}
	}
	for _, f := range wfs {
		switch f.key {
		case "id", "source", "type", "time", "subject", "datacontenttype", "dataschema":
			p.str(f.v, join(wp, f.key))
		}
	}
	return &Emit{Event: p.template(with, wp, scope)}
}

func (p *parser) forTask(fs []field, path string, scope []string, use *Use, meta map[string]any) (*For, TaskList) {
	f := &For{Each: "item", At: "index"}
	fp := join(path, "for")
	ffs, ok := p.fields(get(fs, "for"), fp)
	if ok {
		p.allowed(ffs, fp, "each", "in", "at")
		if v := get(ffs, "each"); v != nil {
			f.Each = p.varName(v, join(fp, "each"))
		}
		if v := get(ffs, "at"); v != nil {
			f.At = p.varName(v, join(fp, "at"))
		}
		inner := append(append([]string{}, scope...), "$"+f.Each, "$"+f.At)
		if v := get(ffs, "in"); v != nil {
			f.In = p.strictExpr(v, join(fp, "in"), scope)
		} else {
			p.errorf(get(fs, "for"), join(fp, "in"), "required property is missing")
		}
		if v := get(fs, "while"); v != nil {
			f.While = p.strictExpr(v, join(path, "while"), inner)
		}
		scope = inner
	}
	if c, ok := meta["vigil"].(map[string]any); ok {
		if v, has := c["concurrency"]; has {
			n, isInt := v.(int)
			if !isInt || n < 1 || n > 64 {
				p.errorf(nil, join(path, "metadata.vigil.concurrency"), "expected an integer from 1 to 64")
			} else {
				f.Concurrency = n
			}
			if f.While != nil && f.Concurrency > 1 {
				p.errorf(nil, join(path, "metadata.vigil.concurrency"), "concurrency cannot be combined with while, which needs iterations in order")
			}
		}
	}
	var body TaskList
	if d := get(fs, "do"); d != nil {
		body = p.taskList(d, join(path, "do"), scope, use)
	} else {
		p.errorf(get(fs, "for"), join(path, "do"), "required property is missing")
	}
	return f, body
}

func (p *parser) varName(n *yaml.Node, path string) string {
	s := strings.TrimPrefix(p.str(n, path), "$")
	if s != "" && !varPattern.MatchString(s) {
		p.errorf(n, path, "expected a variable name (letters, digits, underscore)")
	}
	for _, std := range StandardVars {
		if "$"+s == std {
			p.errorf(n, path, "variable name %s is reserved", s)
		}
	}
	return s
}

func (p *parser) run(n *yaml.Node, path string, scope []string) *Run {
	fs, ok := p.fields(n, path)
	if !ok {
		return nil
	}
	r := &Run{Await: true}
	for _, k := range []string{"container", "shell", "script"} {
		if v := get(fs, k); v != nil {
			p.errorf(v, join(path, k), "task kind run %s is not supported", k)
			return nil
		}
	}
	p.allowed(fs, path, "workflow", "await", "return")
	if a := get(fs, "await"); a != nil {
		r.Await = p.boolean(a, join(path, "await"))
	}
	if rv := get(fs, "return"); rv != nil {
		p.str(rv, join(path, "return"))
	}
	wn := get(fs, "workflow")
	if wn == nil {
		p.errorf(n, path, "expected workflow")
		return nil
	}
	wp := join(path, "workflow")
	wfs, ok := p.fields(wn, wp)
	if !ok {
		return nil
	}
	p.allowed(wfs, wp, "namespace", "name", "version", "input")
	rw := &RunWorkflow{Version: "latest"}
	for _, req := range []string{"namespace", "name", "version"} {
		if get(wfs, req) == nil {
			p.errorf(wn, join(wp, req), "required property is missing")
		}
	}
	if v := get(wfs, "namespace"); v != nil {
		rw.Namespace = p.str(v, join(wp, "namespace"))
	}
	if v := get(wfs, "name"); v != nil {
		rw.Name = p.str(v, join(wp, "name"))
	}
	if v := get(wfs, "version"); v != nil {
		rw.Version = p.str(v, join(wp, "version"))
	}
	if v := get(wfs, "input"); v != nil {
		if resolve(v).Kind != yaml.MappingNode {
			p.errorf(v, join(wp, "input"), "expected object")
		} else {
			rw.Input = p.template(v, join(wp, "input"), scope)
		}
	}
	r.Workflow = rw
	return r
}

func (p *parser) switchCases(n *yaml.Node, path string, scope []string) []*SwitchCase {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, path, "expected a non-empty list of cases")
		return nil
	}
	var cases []*SwitchCase
	for i, item := range n.Content {
		ip := index(path, i)
		item = resolve(item)
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			p.errorf(item, ip, "expected an object with exactly one case name")
			continue
		}
		name := item.Content[0].Value
		cp := join(ip, name)
		fs, ok := p.fields(item.Content[1], cp)
		if !ok {
			continue
		}
		p.allowed(fs, cp, "when", "then")
		c := &SwitchCase{Name: name}
		if w := get(fs, "when"); w != nil {
			c.When = p.strictExpr(w, join(cp, "when"), scope)
		}
		if t := get(fs, "then"); t != nil {
			c.Then = p.str(t, join(cp, "then"))
		} else {
			p.errorf(item.Content[1], join(cp, "then"), "required property is missing")
		}
		cases = append(cases, c)
	}
	return cases
}

// checkReferences verifies names tasks refer to across the document.
func (p *parser) checkReferences(w *Workflow) {
	w.Walk(func(tp string, t *Task) {
		check := func(ref *AuthRef, at string) {
			if ref != nil && ref.Use != "" && w.Use.Authentications[ref.Use] == nil {
				p.problems = append(p.problems, Problem{Path: at, Line: t.Line, Msg: fmt.Sprintf("authentication %s is not defined under use.authentications", ref.Use)})
			}
		}
		if t.Call != nil {
			if t.Call.HTTP != nil && t.Call.HTTP.Endpoint != nil {
				check(t.Call.HTTP.Endpoint.Auth, tp+".with.endpoint.authentication")
			}
			if t.Call.OpenAPI != nil {
				check(t.Call.OpenAPI.Auth, tp+".with.authentication")
				if t.Call.OpenAPI.Document != nil {
					check(t.Call.OpenAPI.Document.Auth, tp+".with.document.endpoint.authentication")
				}
			}
		}
	})
}
