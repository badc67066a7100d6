package console

import (
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/alert"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// Domain are the workflow and posture services behind the console's
// Workflows and ISPM pages.
type Domain struct {
	Flows       *flows.Service
	Templates   *template.Catalog
	Connections *connection.Service
	Sources     *source.Service
	Alerts      *alert.Service
}

// Adapt sets the areas d serves (flows, tables, templates, connections,
// sources, approvals and alerts) to the adapters over d's services. The
// server and the console's test world both build the console with it, so
// that the tests run the pages over exactly what production wires.
func (s *Services) Adapt(d Domain) {
	fs := FlowService{Service: d.Flows}
	s.Flows, s.Tables, s.Approvals = fs, fs, d.Flows
	s.Templates = TemplateService{Catalog: d.Templates, Flows: d.Flows}
	s.Connections = ConnectionService{Service: d.Connections}
	s.Sources = NewSourceService(d.Sources)
	s.Alerts = AlertService{Service: d.Alerts}
}
