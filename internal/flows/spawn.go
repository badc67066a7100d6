package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// spawner starts helper flows that a running execution does not wait for
// (run: workflow with await: false) as executions of their own, through
// the same durable path as Start. A child is identified by its parent and
// the spawning task's journal key, so a parent resumed after a crash
// finds the child it already started instead of starting another.
type spawner struct {
	s        *Service
	parent   *store.FlowExecution
	resolver *runResolver
	journal  *dbJournal
}

// SpawnsOnce reports that Spawn starts one child per parent and key (it
// looks the child up first, and the database refuses a second one), so a
// parent's step that started a helper without waiting need not be
// committed before the parent goes on: the child's row, committed by
// Spawn, is the record that it was started. It costs one commit less per
// spawn (the ISPM routing flow commits its start, its helper's start and
// its end).
func (sp *spawner) SpawnsOnce() bool { return true }

// Spawn starts the helper execution req asks for, or returns the one this
// parent's task already started before a crash.
func (sp *spawner) Spawn(ctx context.Context, req engine.SpawnRequest) (string, error) {
	s := sp.s
	// The engine names an awaited helper's execution after its parent;
	// the spawning task's key is unique within the top-level execution.
	parentID := sp.parent.ID
	if existing, err := s.st.FlowExecutionByParent(ctx, parentID, req.Key); err == nil {
		return existing.ID, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", sp.journal.fail(fmt.Errorf("look up helper flow %s: %w", req.Ref, err))
	}
	k, ok := sp.resolver.lookup(req.Flow)
	if !ok {
		return "", fmt.Errorf("helper flow %s was not resolved by this execution", req.Ref)
	}
	if s.queue == nil {
		return "", ErrNoQueue
	}
	now := s.now()
	execID := id.NewAt("exe", now)
	sealed, value, err := s.sealInput(req.Input, execID)
	if err != nil {
		return "", err
	}
	// Helper flows live in their caller's folder.
	e := &store.FlowExecution{ID: execID, FlowID: k.flowID, Version: k.version, Status: StatusPending, InputSealed: sealed,
		ParentID: parentID, ParentKey: req.Key, CallDepth: req.CallDepth, Test: sp.parent.Test, DryRun: sp.parent.DryRun,
		SaveAllData: req.Flow.SaveAllData(), CreatedAt: now, UpdatedAt: now, FolderID: sp.parent.FolderID,
		Subject: sp.parent.Subject}
	err = s.begin(ctx, e, req.Flow, value, nil, false)
	if errors.Is(err, store.ErrConflict) {
		if existing, err := s.st.FlowExecutionByParent(ctx, parentID, req.Key); err == nil {
			return existing.ID, nil
		}
	}
	if err != nil {
		return "", sp.journal.fail(fmt.Errorf("start helper flow %s: %w", req.Ref, err))
	}
	return execID, nil
}
