package alert

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/slack/slacktest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// jobs records the notification jobs inserted, in place of River.
type jobs struct{ args []notifyArgs }

func (j *jobs) InsertTx(_ context.Context, _ *store.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	j.args = append(j.args, args.(notifyArgs))
	return &rivertype.JobInsertResult{Job: &rivertype.JobRow{}}, nil
}

const helperDoc = `document:
  dsl: '1.0.0'
  namespace: ops
  name: helper
  version: '1.0.0'
  title: Suspend helper
do:
  - x:
      set:
        a: 1
`

// TestRulesAndSlack checks the rules a user may save, that a fault queues
// one job per covering rule (none for a test run) in the fault's
// transaction, and that the job posts the error and the link to Slack
// through the connection: for real, recorded only when the connection is
// in dry run, and recorded as failed when Slack refuses.
func TestRulesAndSlack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		box := secrettest.Box(t)
		loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		client := netguard.NewClient(netguard.Config{Allow: loopback})
		conns := connection.New(st, box, connection.Config{Client: client, Allow: loopback})
		sl := slacktest.New(t)
		for _, in := range []connection.Input{
			{Name: "Slack", Kind: connection.KindSlack, Fields: map[string]string{"token": slacktest.Token, "baseUrl": sl.URL + "/api"}},
			{Name: "Slack dry", Kind: connection.KindSlack, Fields: map[string]string{"token": slacktest.Token, "baseUrl": sl.URL + "/api"}, DryRun: true},
			{Name: "Hook", Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": sl.URL}},
		} {
			if _, err := conns.Create(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		fl := flows.New(st, box, flows.Config{})
		folder, err := fl.CreateFolder(ctx, "Ops", "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := fl.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(helperDoc)})
		if err != nil {
			t.Fatal(err)
		}
		flowID := res.Flow.ID
		q := &jobs{}
		svc := New(st, Config{Caller: connector.New(connector.Config{Connections: conns, Client: client}), Connections: conns,
			PublicURL: "https://vigil.example.com/", Queue: q})

		for _, tc := range []struct {
			in    Input
			field string
		}{
			{Input{Channel: ChannelSlack, Connection: "Slack"}, "scope"},
			{Input{FlowID: flowID, FolderID: folder.ID, Channel: ChannelSlack, Connection: "Slack"}, "scope"},
			{Input{FlowID: flowID, Channel: "email", Connection: "Slack"}, "channel"},
			{Input{FlowID: flowID, Channel: ChannelSlack}, "connection"},
			{Input{FlowID: flowID, Channel: ChannelSlack, Connection: "Nope"}, "connection"},
			{Input{FlowID: flowID, Channel: ChannelWebhook, Connection: "Slack"}, "connection"},
			{Input{FlowID: flowID, Channel: ChannelWebhook, Connection: "Hook", Target: "hooks"}, "target"},
			{Input{FlowID: "flw_nope", Channel: ChannelSlack, Connection: "Slack"}, "scope"},
		} {
			_, err := svc.Add(ctx, tc.in)
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("%+v: %v; want an InvalidError on %s", tc.in, err, tc.field)
			}
		}
		if rules, _ := svc.Rules(ctx); len(rules) != 0 {
			t.Fatalf("refused rules were saved: %+v", rules)
		}
		real, err := svc.Add(ctx, Input{FlowID: flowID, Channel: ChannelSlack, Connection: "slack", Target: "#alerts", By: "admin"})
		if err != nil || real.Connection != "Slack" || real.FlowTitle != "Suspend helper" || real.FolderName != "Ops" {
			t.Fatalf("add: %+v, %v", real, err)
		}
		dry, err := svc.Add(ctx, Input{FolderID: folder.ID, Channel: ChannelSlack, Connection: "Slack dry", Target: "#alerts"})
		if err != nil {
			t.Fatal(err)
		}
		refused, err := svc.Add(ctx, Input{FolderID: folder.ID, Channel: ChannelSlack, Connection: "Slack", Target: "#private"})
		if err != nil {
			t.Fatal(err)
		}

		fault := func(id string, test bool) *store.FlowExecution {
			now := time.Now().UTC()
			e := &store.FlowExecution{ID: id, FlowID: flowID, Version: 1, Status: store.FlowRunning, Test: test, Generation: 1,
				CreatedAt: now, UpdatedAt: now}
			if err := st.CreateFlowExecution(ctx, e); err != nil {
				t.Fatal(err)
			}
			err := st.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.FinishFlowExecution(ctx, store.FlowExecutionEnd{ID: id, Generation: 1, Status: store.FlowFaulted,
					Error:   `{"type":"https://serverlessworkflow.io/spec/1.0.0/errors/communication","status":403,"title":"Okta refused","detail":"the token lacks okta.users.manage"}`,
					EndedAt: now}); err != nil {
					return err
				}
				e.Test = test
				return svc.ExecutionFaulted(ctx, tx, e)
			})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		fault("exe_test", true)
		if len(q.args) != 0 {
			t.Fatalf("a test run queued %d notifications", len(q.args))
		}
		fault("exe_real", false)
		if len(q.args) != 3 {
			t.Fatalf("a fault covered by 3 rules queued %d notifications", len(q.args))
		}
		w := &notifyWorker{s: svc}
		for _, a := range q.args {
			err := w.Work(ctx, &river.Job[notifyArgs]{JobRow: &rivertype.JobRow{Attempt: 5, MaxAttempts: 5}, Args: a})
			if (a.AlertID == refused.ID) != (err != nil) {
				t.Errorf("rule %s: %v", a.AlertID, err)
			}
		}
		msgs := sl.Messages()
		if len(msgs) != 1 || msgs[0].Channel != "C0ALERTS01" ||
			!strings.Contains(msgs[0].Text, `Flow "Suspend helper" (folder Ops) faulted: Okta refused: the token lacks okta.users.manage`) ||
			!strings.Contains(msgs[0].Text, "https://vigil.example.com/workflows/executions/exe_real") {
			t.Fatalf("Slack received %+v; want one message with the error and the link", msgs)
		}
		for _, tc := range []struct {
			id   string
			ok   bool
			says string
		}{
			{real.ID, true, "Sent for execution exe_real."},
			{dry.ID, true, "Recorded only for execution exe_real: the connection Slack dry is in dry run."},
			{refused.ID, false, "Not sent: "},
		} {
			r, err := st.FlowAlert(ctx, tc.id)
			if err != nil || r.LastOK != tc.ok || !strings.HasPrefix(r.LastMessage, tc.says) || r.LastAt.IsZero() {
				t.Errorf("rule %s after sending: %+v, %v; want ok %v, %q", tc.id, r, err, tc.ok, tc.says)
			}
		}

		if err := svc.Remove(ctx, real.ID); err != nil {
			t.Fatal(err)
		}
		// The removed rule's own job, whatever order the rules were queued in.
		var realArgs notifyArgs
		for _, a := range q.args {
			if a.AlertID == real.ID {
				realArgs = a
			}
		}
		if realArgs.AlertID == "" {
			t.Fatalf("no notification was queued for rule %s", real.ID)
		}
		if err := w.Work(ctx, &river.Job[notifyArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 5}, Args: realArgs}); err != nil {
			t.Errorf("the job of a removed rule: %v", err)
		}
		if len(sl.Messages()) != 1 {
			t.Error("a removed rule still sent")
		}
		if err := svc.Remove(ctx, real.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("remove twice: %v", err)
		}
	})
}
