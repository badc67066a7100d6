package console

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// TemplateService gives the console the template catalog, installing
// templates with the flows service. It satisfies Templates.
type TemplateService struct {
	Catalog *template.Catalog
	Flows   *flows.Service
}

var _ Templates = TemplateService{}

// Templates lists the templates.
func (s TemplateService) Templates(ctx context.Context) ([]Template, error) {
	var out []Template
	for _, t := range s.Catalog.List() {
		x := Template{Name: t.Name, Title: t.Title, Description: t.Description, Keywords: t.Keywords, FlowTitles: t.Flows}
		for _, c := range t.Connections {
			x.Connectors = append(x.Connectors, c.Name)
		}
		for _, v := range t.Variables {
			d := v.Description
			if v.Example != "" {
				d += " For example " + v.Example + "."
			}
			x.Variables = append(x.Variables, TemplateVar{Name: v.Name, Label: v.Label, Description: d, Example: v.Example})
		}
		out = append(out, x)
	}
	return out, nil
}

// AddTemplate installs a template in a new folder and returns the folder.
func (s TemplateService) AddTemplate(ctx context.Context, name, folder string, vars map[string]string, again bool) (*Folder, error) {
	inst := template.FlowsInstaller{Flows: s.Flows, By: by(ctx)}
	var present *template.PresentError
	var err error
	if !again {
		err = s.Catalog.CheckNew(ctx, inst, name, folder)
	}
	if errors.As(err, &present) {
		f, ferr := s.Flows.Folder(ctx, present.Folder)
		if ferr != nil {
			return nil, ferr
		}
		return nil, &TemplatePresentError{Folder: f}
	}
	var added *template.Added
	if err == nil {
		added, err = s.Catalog.Add(ctx, inst, name, folder, vars)
	}
	switch {
	case errors.Is(err, template.ErrNotFound):
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	case err != nil:
		if errors.Is(err, flows.ErrInvalid) || errors.Is(err, template.ErrFolderTaken) {
			return nil, &InputError{Message: httpjson.Sentence(err.Error())}
		}
		return nil, err
	}
	return s.Flows.Folder(ctx, added.Folder)
}

// ConnectionService gives the console the connections service. It
// satisfies Connections.
type ConnectionService struct {
	Service *connection.Service
}

var _ Connections = ConnectionService{}

func connectionError(err error) error {
	var ie *connection.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, connection.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &ie):
		return &InputError{Field: ie.Field, Message: httpjson.Sentence(ie.Message)}
	case errors.Is(err, connection.ErrConflict):
		return &InputError{Field: "name", Message: "A connection with this name exists already; choose another name."}
	}
	return err
}

// Connections lists the connections.
func (s ConnectionService) Connections(ctx context.Context) ([]Connection, error) {
	cs, err := s.Service.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Connection, 0, len(cs))
	for _, c := range cs {
		out = append(out, connectionOf(c))
	}
	return out, nil
}

func connectionOf(c *connection.Connection) Connection {
	keys := make([]string, 0, len(c.Settings))
	for k, v := range c.Settings {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+c.Settings[k])
	}
	summary := strings.Join(parts, " · ")
	if c.LastTest != nil {
		state := "failed"
		if c.LastTest.OK {
			state = "passed"
		}
		summary += " · last test " + state + " " + formatDate(c.LastTest.At)
	}
	return Connection{Name: c.Name, Type: c.Kind, DryRun: c.DryRun, Summary: summary, Values: maps.Clone(c.Settings), UpdatedAt: c.UpdatedAt}
}

// ConnectionTypes describes the form of each kind of connection.
func (s ConnectionService) ConnectionTypes() []FormType {
	var out []FormType
	for _, t := range connection.Types() {
		ft := FormType{Type: t.Kind, Label: t.Title}
		for _, f := range t.Fields {
			fd := Field{Name: f.Name, Label: f.Label, Help: f.Help, Secret: f.Secret, Required: f.Required, Options: f.Options, Placeholder: f.Default}
			switch {
			case len(f.Options) > 0:
				fd.Kind = "select"
			case f.Multiline:
				fd.Kind = "textarea"
			case f.URL:
				fd.Kind = "url"
			}
			ft.Fields = append(ft.Fields, fd)
		}
		out = append(out, ft)
	}
	return out
}

// AddConnection saves a new connection.
func (s ConnectionService) AddConnection(ctx context.Context, in ConnectionInput) (*Connection, error) {
	c, err := s.Service.Create(ctx, connection.Input{Name: in.Name, Kind: in.Type, Fields: in.Values, DryRun: in.DryRun})
	if err != nil {
		return nil, connectionError(err)
	}
	out := connectionOf(c)
	return &out, nil
}

// TestConnection makes one harmless read call.
func (s ConnectionService) TestConnection(ctx context.Context, name string) (CheckResult, error) {
	r, err := s.Service.Test(ctx, name)
	if err != nil {
		return CheckResult{}, connectionError(err)
	}
	return CheckResult{OK: r.OK, Message: r.Message}, nil
}

// SetDryRun flips the dry-run switch.
func (s ConnectionService) SetDryRun(ctx context.Context, name string, on bool) error {
	_, err := s.Service.SetDryRun(ctx, name, on)
	return connectionError(err)
}

// Connection returns one connection, secrets left out.
func (s ConnectionService) Connection(ctx context.Context, name string) (*Connection, error) {
	c, err := s.Service.Get(ctx, name)
	if err != nil {
		return nil, connectionError(err)
	}
	out := connectionOf(c)
	return &out, nil
}

// EditConnection updates a connection through the service's Update, the
// call the API's partial update makes: secret fields left empty keep
// their values, and a moved host needs its secret again.
func (s ConnectionService) EditConnection(ctx context.Context, name string, in ConnectionInput) (*Connection, error) {
	c, err := s.Service.Update(ctx, name, connection.Input{Name: in.Name, Kind: in.Type, Fields: in.Values, DryRun: in.DryRun})
	if err != nil {
		return nil, connectionError(err)
	}
	out := connectionOf(c)
	return &out, nil
}

// RemoveConnection deletes a connection.
func (s ConnectionService) RemoveConnection(ctx context.Context, name string) error {
	return connectionError(s.Service.Delete(ctx, name))
}
