package connector

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// Register adds every connector action to the flows catalog, each with
// its arguments declared so that flows are checked before they run, and
// its connection kind, so that the flows service refuses to turn on a
// flow whose connection is not set.
func (c *Connectors) Register(cat *catalog.Catalog) error {
	for _, f := range c.Functions() {
		f := f
		args := make([]catalog.Arg, len(f.Args))
		for i, a := range f.Args {
			args[i] = catalogArg(a)
		}
		err := cat.Register(f.Name, catalog.Function{
			Summary:   f.Summary,
			Args:      args,
			Output:    f.OutputDoc(),
			Connector: f.Kind,
			Run: func(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
				return c.Run(ctx, f, args, env)
			},
		})
		if err != nil {
			return fmt.Errorf("register %s: %w", f.Name, err)
		}
	}
	return nil
}

func catalogArg(a Arg) catalog.Arg {
	out := catalog.Arg{Name: a.Name, Required: a.Required, Summary: a.Doc, Enum: a.Enum}
	switch a.Type {
	case "string":
		out.Type = catalog.String
		if a.Required {
			out.Check = func(v any) string {
				if s, _ := v.(string); strings.TrimSpace(s) == "" {
					return "expected a non-empty string"
				}
				return ""
			}
		}
	case "boolean":
		out.Type = catalog.Boolean
	case "integer":
		out.Type = catalog.Integer
	case "object":
		out.Type = catalog.Object
	case "array":
		out.Type = catalog.Array
	case "strings":
		out.Type = catalog.Array
		out.Items = &catalog.Arg{Name: "item", Type: catalog.String, Required: true}
	default:
		out.Type = catalog.Any
	}
	return out
}

// OutputDoc describes the function's output in one line, for the
// catalog's documentation: {userId: …, status: …}.
func (f *Function) OutputDoc() string {
	parts := make([]string, len(f.Output))
	for i, o := range f.Output {
		parts[i] = fmt.Sprintf("%s (%s): %s", o.Name, o.Type, strings.TrimSuffix(o.Doc, "."))
	}
	return "An object: " + strings.Join(parts, "; ") + "."
}
