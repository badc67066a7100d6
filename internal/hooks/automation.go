package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Automation says which events an integration is sent: the console's
// "Automate Webhook" dialog. An event is sent when auto-send is on, its type
// is one of EventTypes, its title is selected (or AllTitles), and it passes
// every non-empty filter. It is evaluated when an event is published, so an
// edit affects only events produced after it.
type Automation struct {
	HookID    string   `json:"hookId"`
	AutoSend  bool     `json:"autoSend"`
	AllTitles bool     `json:"allTitles"`
	Titles    []string `json:"titles"`
	// Severities, Categories and Products filter further; empty means any.
	Severities []string `json:"severities"`
	Categories []string `json:"categories"`
	Products   []string `json:"products"`
	// EventTypes are the event types sent; issue.created only by default.
	EventTypes []string  `json:"eventTypes"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// AutomationInput is what a user sets with "Add automation".
type AutomationInput struct {
	// AutoSend is the "Auto-send notifications" switch; nil keeps the saved
	// value, or turns it on for a new automation.
	AutoSend   *bool    `json:"autoSend,omitempty"`
	AllTitles  bool     `json:"allTitles"`
	Titles     []string `json:"titles"`
	Severities []string `json:"severities"`
	Categories []string `json:"categories"`
	Products   []string `json:"products"`
	// EventTypes defaults to ["issue.created"].
	EventTypes []string `json:"eventTypes"`
}

// Values the filters accept.
var (
	severityValues  = []string{string(detect.SeverityLow), string(detect.SeverityMedium), string(detect.SeverityHigh), string(detect.SeverityCritical)}
	categoryValues  = []string{string(detect.CategoryMFA), string(detect.CategoryLeastPrivilege), string(detect.CategoryCredentialHygiene), string(detect.CategoryAccountLifecycle)}
	productValues   = []string{event.ProductOkta, event.ProductEntra, event.ProductGoogle, event.ProductSalesforce, event.ProductAWS}
	eventTypeValues = []string{event.TypeCreated, event.TypeUpdated, event.TypeResolved}
)

// Matches reports whether ev is to be sent under a.
func (a *Automation) Matches(ev *event.Event) bool {
	d := &ev.EventData
	return a.AutoSend &&
		slices.Contains(a.EventTypes, ev.Type) &&
		(a.AllTitles || slices.Contains(a.Titles, d.Title)) &&
		anyOrIn(a.Severities, d.Severity) &&
		anyOrIn(a.Categories, d.Category) &&
		anyOrIn(a.Products, d.AffectedEntity.SourceProductName)
}

func anyOrIn(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

// checkList trims and deduplicates values and checks each against allowed.
func checkList(field, what string, values, allowed []string) ([]string, error) {
	out := []string{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" || slices.Contains(out, v) {
			continue
		}
		if !slices.Contains(allowed, v) {
			return nil, invalid(field, fmt.Sprintf("%q is not a %s; use one of %s.", v, what, strings.Join(allowed, ", ")))
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Service) checkAutomation(in AutomationInput, prev *Automation) (*Automation, error) {
	a := &Automation{AutoSend: true, AllTitles: in.AllTitles}
	switch {
	case in.AutoSend != nil:
		a.AutoSend = *in.AutoSend
	case prev != nil:
		a.AutoSend = prev.AutoSend
	}
	titles := []string{}
	for _, t := range in.Titles {
		t = strings.TrimSpace(t)
		if t == "" || slices.Contains(titles, t) {
			continue
		}
		if !s.cfg.KnownTitle(t) {
			return nil, invalid("titles", fmt.Sprintf("%q is not an issue title Vigil detects; titles are exact, such as \"Unused Admin Account\".", t))
		}
		titles = append(titles, t)
	}
	a.Titles = titles
	if a.AllTitles && len(titles) > 0 {
		return nil, invalid("titles", "Choose either all titles or a list of titles, not both.")
	}
	if a.AutoSend && !a.AllTitles && len(titles) == 0 {
		return nil, invalid("titles", "Select the issue titles that trigger the hook, or all titles.")
	}
	var err error
	if a.Severities, err = checkList("severities", "severity", in.Severities, severityValues); err != nil {
		return nil, err
	}
	if a.Categories, err = checkList("categories", "category", in.Categories, categoryValues); err != nil {
		return nil, err
	}
	if a.Products, err = checkList("products", "source product", in.Products, productValues); err != nil {
		return nil, err
	}
	if a.EventTypes, err = checkList("eventTypes", "event type", in.EventTypes, eventTypeValues); err != nil {
		return nil, err
	}
	if len(a.EventTypes) == 0 {
		a.EventTypes = []string{event.TypeCreated}
	}
	return a, nil
}

// SetAutomation stores the automation of an integration (by id or name),
// replacing the previous one. Events published from then on are matched
// against it; events already published keep their deliveries.
func (s *Service) SetAutomation(ctx context.Context, idOrName string, in AutomationInput) (*Automation, error) {
	h, err := s.hook(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	var prev *Automation
	if sa, err := s.st.HookAutomation(ctx, h.ID); err == nil {
		prev = automationFromStore(sa)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load the automation of %s: %w", h.Name, err)
	}
	a, err := s.checkAutomation(in, prev)
	if err != nil {
		return nil, err
	}
	a.HookID, a.UpdatedAt = h.ID, s.now()
	if err := s.st.PutHookAutomation(ctx, automationToStore(a)); err != nil {
		return nil, fmt.Errorf("save the automation of %s: %w", h.Name, err)
	}
	s.audit.Record(ctx, audit.Entry{Action: "hook.automation.update", Target: hookTarget(h),
		Details: map[string]any{"allTitles": a.AllTitles, "titles": a.Titles, "autoSend": a.AutoSend}})
	return a, nil
}

// ListAutomations returns every integration's automation.
func (s *Service) ListAutomations(ctx context.Context) ([]*Automation, error) {
	sas, err := s.st.HookAutomations(ctx)
	if err != nil {
		return nil, fmt.Errorf("list automations: %w", err)
	}
	out := make([]*Automation, 0, len(sas))
	for _, sa := range sas {
		out = append(out, automationFromStore(sa))
	}
	return out, nil
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func parseList(s string) []string {
	out := []string{}
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

func automationToStore(a *Automation) *store.HookAutomation {
	return &store.HookAutomation{HookID: a.HookID, AutoSend: a.AutoSend, AllTitles: a.AllTitles,
		Titles: jsonList(a.Titles), Severities: jsonList(a.Severities), Categories: jsonList(a.Categories),
		Products: jsonList(a.Products), EventTypes: jsonList(a.EventTypes), UpdatedAt: a.UpdatedAt}
}

func automationFromStore(sa *store.HookAutomation) *Automation {
	return &Automation{HookID: sa.HookID, AutoSend: sa.AutoSend, AllTitles: sa.AllTitles,
		Titles: parseList(sa.Titles), Severities: parseList(sa.Severities), Categories: parseList(sa.Categories),
		Products: parseList(sa.Products), EventTypes: parseList(sa.EventTypes), UpdatedAt: sa.UpdatedAt}
}
