package hooks

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/store"
)

// SendOpenNow is SendOpen with the issues Config.OpenIssues lists. It
// refuses, changing nothing, when the service was given no way to list
// them.
func (s *Service) SendOpenNow(ctx context.Context, idOrName string) (int, error) {
	if s.cfg.OpenIssues == nil {
		return 0, invalid("sendOpen", "This server cannot list the open issues; save the automation without sending them.")
	}
	open, err := s.cfg.OpenIssues(ctx)
	if err != nil {
		return 0, fmt.Errorf("list the open issues: %w", err)
	}
	return s.SendOpen(ctx, idOrName, open)
}

// SendOpen sends an integration the issues open now, when its automation
// is turned on: automations are matched when an event is published, so
// without it an integration added after a scan hears only of issues found
// later. Each issue its automation matches as an issue.created event, and
// that the integration was never sent before, gets an issue.created event
// through the outbox, for this integration only, exactly as a new issue
// would; issues it was sent already are skipped, so sending twice sends
// nothing more. It returns how many events it queued; all of them commit
// together or none does.
func (s *Service) SendOpen(ctx context.Context, idOrName string, open []event.Issue) (int, error) {
	h, err := s.hook(ctx, idOrName)
	if err != nil {
		return 0, err
	}
	sa, err := s.st.HookAutomation(ctx, h.ID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, invalid("automation", fmt.Sprintf("Integration %q has no automation; add one before sending the open issues.", h.Name))
	}
	if err != nil {
		return 0, fmt.Errorf("load the automation of %s: %w", h.Name, err)
	}
	a := automationFromStore(sa)
	n := 0
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		sent, err := tx.HookIssuesSent(ctx, h.ID)
		if err != nil {
			return fmt.Errorf("list the issues %s was sent: %w", h.Name, err)
		}
		for _, d := range open {
			ev := event.Event{Type: event.TypeCreated, EventData: d}
			if sent[d.ID] || !a.Matches(&ev) {
				continue
			}
			sent[d.ID] = true
			if err := s.publish(ctx, tx, ev, h.ID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
