package hooks

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// rawRequest is a request as it was on the wire.
type rawRequest struct {
	Line   string   // "POST /path?query HTTP/1.1"
	Header []string // header lines exactly as sent
	Body   []byte
}

// rawServer accepts HTTP/1.1 requests on loopback and hands each, as sent,
// to handle, which writes the raw answer to conn. It closes the connection
// after each request.
func rawServer(t testing.TB, handle func(conn net.Conn, req rawRequest)) (string, func() []rawRequest) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reqs []rawRequest
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				br := bufio.NewReader(conn)
				var req rawRequest
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				req.Line = strings.TrimRight(line, "\r\n")
				length := 0
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return
					}
					l = strings.TrimRight(l, "\r\n")
					if l == "" {
						break
					}
					req.Header = append(req.Header, l)
					if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
						length, _ = strconv.Atoi(strings.TrimSpace(v))
					}
				}
				req.Body = make([]byte, length)
				if _, err := io.ReadFull(br, req.Body); err != nil {
					return
				}
				mu.Lock()
				reqs = append(reqs, req)
				mu.Unlock()
				handle(conn, req)
			}()
		}
	}()
	return "http://" + ln.Addr().String(), func() []rawRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]rawRequest(nil), reqs...)
	}
}

func answer200(conn net.Conn, _ rawRequest) {
	io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
}

func TestKeyPlacement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		tests := []struct {
			name       string
			keys       []Key
			wantQuery  string   // the request line's query
			wantHeader []string // header lines that must appear exactly
			absent     string   // a value that must appear nowhere else
		}{
			{
				name:      "URL parameter",
				keys:      []Key{{Name: "clientToken", Placement: PlaceParam, Value: "tok/+= 1"}},
				wantQuery: "?a=1&clientToken=tok%2F%2B%3D+1",
				absent:    "tok/+= 1",
			},
			{
				name:       "header",
				keys:       []Key{{Name: "x-API-Key", Placement: PlaceHeader, Value: "hdr-value"}},
				wantQuery:  "?a=1",
				wantHeader: []string{"x-API-Key: hdr-value"},
			},
			{
				name: "both, case kept",
				keys: []Key{{Name: "clientToken", Placement: PlaceParam, Value: "p1"}, {Name: "ClientToken", Placement: PlaceParam, Value: "p2"},
					{Name: "clientToken", Placement: PlaceHeader, Value: "h1"}},
				wantQuery:  "?a=1&clientToken=p1&ClientToken=p2",
				wantHeader: []string{"clientToken: h1"},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b := setup(t, st)
				url, got := rawServer(t, answer200)
				hook, _ := b.addHook(t, "placement "+tt.name, url+"/hook?a=1", tt.keys...)
				ev := sampleEvent()
				b.publish(t, ev)
				b.runJobs(t)
				reqs := got()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				r := reqs[0]
				if want := "POST /hook" + tt.wantQuery + " HTTP/1.1"; r.Line != want {
					t.Errorf("request line %q, want %q", r.Line, want)
				}
				head := "\n" + strings.Join(r.Header, "\n") + "\n"
				for _, h := range append(tt.wantHeader, "Content-Type: application/json", "User-Agent: Vigil-Hooks/1", "Webhook-Id: "+ev.ID) {
					if !strings.Contains(head, "\n"+h+"\n") {
						t.Errorf("header line %q missing from\n%s", h, head)
					}
				}
				if tt.absent != "" && strings.Contains(head, tt.absent) {
					t.Errorf("the parameter value leaked into a header")
				}
				if strings.Contains(strings.ToLower(head), "x-vigil-test") {
					t.Error("a delivery is marked as a test")
				}
				var sent event.Event
				if err := json.Unmarshal(r.Body, &sent); err != nil || sent.ID != ev.ID || sent.EventData.Title != ev.EventData.Title {
					t.Errorf("body %s: %v", r.Body, err)
				}
				d := b.only(t)
				if d.Status != StatusDelivered || d.Attempts != 1 || d.HookID != hook.ID || d.LastStatus != 200 {
					t.Errorf("delivery %+v", d)
				}
				b.svc.Delete(context.Background(), hook.ID)
			})
		}
	})
}

func TestSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		rc := newReceiver(t, nil)
		hook, first := b.addHook(t, "signed", rc.URL)

		b.publish(t, sampleEvent())
		b.runJobs(t)
		// Rotate: for the grace period, both secrets sign.
		second, err := b.svc.RotateSecret(ctx, hook.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		b.publish(t, sampleEvent())
		b.runJobs(t)
		// After it, only the new one.
		b.clock.Add(time.Hour + time.Second)
		b.publish(t, sampleEvent())
		b.runJobs(t)

		reqs := rc.requests()
		if len(reqs) != 3 {
			t.Fatalf("%d requests, want 3", len(reqs))
		}
		now := b.clock.Now()
		check := func(i int, whsec string, want bool, at time.Time) {
			t.Helper()
			err := verifySignature(whsec, reqs[i].Header, reqs[i].Body, at)
			if (err == nil) != want {
				t.Errorf("request %d: verify = %v, want ok=%v", i, err, want)
			}
		}
		start := now.Add(-time.Hour - time.Second)
		check(0, first, true, start)
		check(0, second, false, start)
		check(1, first, true, start)
		check(1, second, true, start)
		check(2, first, false, now)
		check(2, second, true, now)
		if n := len(strings.Fields(reqs[1].Header.Get("webhook-signature"))); n != 2 {
			t.Errorf("during rotation %d signatures, want 2", n)
		}
		// A tampered body fails.
		if err := verifySignature(second, reqs[2].Header, append(reqs[2].Body, ' '), now); err == nil {
			t.Error("a modified body verified")
		}
		// webhook-id is the event id; the timestamp is the attempt's.
		var ev event.Event
		json.Unmarshal(reqs[2].Body, &ev)
		if reqs[2].Header.Get("webhook-id") != ev.ID || reqs[2].Header.Get("webhook-timestamp") != strconv.FormatInt(now.Unix(), 10) {
			t.Errorf("headers %v", reqs[2].Header)
		}
	})
}

func TestRetrySchedule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b, rc := setupFailing(t, st)
		b.publish(t, sampleEvent())
		jobs := b.jobs.take()
		if len(jobs) != 1 {
			t.Fatalf("%d jobs, want 1", len(jobs))
		}
		job := jobs[0]
		schedule := DefaultSchedule()
		for i, want := range schedule {
			again, err := b.svc.deliver(ctx, job.DeliveryID, job.Generation)
			if err != nil {
				t.Fatal(err)
			}
			d := b.only(t)
			if again != want || !d.NextAttemptAt.Equal(b.clock.Now().Add(want)) || d.Status != StatusPending || d.RoundAttempts != i+1 {
				t.Fatalf("attempt %d: snooze %s, next %s (now %s), status %s, round %d; want wait %s",
					i+1, again, d.NextAttemptAt, b.clock.Now(), d.Status, d.RoundAttempts, want)
			}
			// Run early, the job waits for the schedule without an attempt.
			if early, _ := b.svc.deliver(ctx, job.DeliveryID, job.Generation); want > time.Second && early != want {
				t.Fatalf("early run snoozed %s, want %s", early, want)
			}
			b.clock.Add(want)
		}
		again, err := b.svc.deliver(ctx, job.DeliveryID, job.Generation)
		if err != nil || again != done {
			t.Fatalf("last attempt: %s, %v", again, err)
		}
		d := b.only(t)
		if d.Status != StatusDead || d.Attempts != len(schedule)+1 {
			t.Errorf("after the last attempt: status %s, %d attempts", d.Status, d.Attempts)
		}
		if n := len(rc.requests()); n != len(schedule)+1 {
			t.Errorf("receiver got %d requests, want %d", n, len(schedule)+1)
		}
		full, err := b.svc.Delivery(ctx, d.ID)
		if err != nil || len(full.AttemptLog) != len(schedule)+1 || full.AttemptLog[0].StatusCode != 500 || full.AttemptLog[0].ErrorKind != KindNon2xx {
			t.Errorf("attempt log: %+v, %v", full, err)
		}
		// A dead delivery's old job does nothing.
		if again, _ := b.svc.deliver(ctx, job.DeliveryID, job.Generation); again != done || len(rc.requests()) != len(schedule)+1 {
			t.Error("a dead delivery was attempted again")
		}
	})
}

func TestRetryAfter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		tests := []struct {
			code   int
			header string
			want   time.Duration
		}{
			{429, "120", 2 * time.Minute},
			{503, b.clock.Now().Add(45 * time.Minute).Format(http.TimeFormat), 45 * time.Minute},
			{429, "", 5 * time.Second}, // no Retry-After: the schedule
			{500, "120", 5 * time.Second},
			{429, "9999999", DefaultMaxRetryAfter},
		}
		for i, tt := range tests {
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.code)
			})
			hook, _ := b.addHook(t, fmt.Sprint("ra", i), rc.URL)
			b.publish(t, sampleEvent())
			snoozes := b.runJobs(t)
			if len(snoozes) != 1 || snoozes[0] != tt.want {
				t.Errorf("%d with Retry-After %q: waits %v, want %s", tt.code, tt.header, snoozes, tt.want)
			}
			b.svc.Delete(context.Background(), hook.ID)
		}
	})
}

func TestGoneDisables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		rc := newReceiver(t, status(http.StatusGone))
		hook, _ := b.addHook(t, "gone", rc.URL)
		b.publish(t, sampleEvent())
		b.publish(t, sampleEvent())
		jobs := b.jobs.take()
		if again, err := b.svc.deliver(ctx, jobs[0].DeliveryID, jobs[0].Generation); err != nil || again != done {
			t.Fatalf("deliver = %s, %v", again, err)
		}
		got, _ := b.svc.Get(ctx, hook.ID)
		if got.State != StatePaused || !strings.Contains(got.PauseReason, "410") {
			t.Fatalf("after 410: state %s, reason %q", got.State, got.PauseReason)
		}
		// The other pending delivery is held, and its job does nothing.
		if again, _ := b.svc.deliver(ctx, jobs[1].DeliveryID, jobs[1].Generation); again != done {
			t.Error("the job of a held delivery wants to run again")
		}
		if n := len(rc.requests()); n != 1 {
			t.Errorf("receiver got %d requests after 410, want 1", n)
		}
		// New events are stored held, with no job.
		b.publish(t, sampleEvent())
		if jobs := b.jobs.take(); len(jobs) != 0 {
			t.Errorf("%d jobs for a paused integration", len(jobs))
		}
		held, _ := b.svc.Deliveries(ctx, DeliveryFilter{Hook: hook.ID, Status: StatusHeld})
		if len(held) != 3 {
			t.Errorf("%d held deliveries, want 3", len(held))
		}
		// Resume sends them all.
		rc.setRespond(nil)
		n, err := b.svc.Resume(ctx, hook.ID)
		if err != nil || n != 3 {
			t.Fatalf("Resume = %d, %v", n, err)
		}
		b.runJobs(t)
		delivered, _ := b.svc.Deliveries(ctx, DeliveryFilter{Hook: hook.ID, Status: StatusDelivered})
		if len(delivered) != 3 {
			t.Errorf("%d delivered after resume, want 3", len(delivered))
		}
		// The pre-resume jobs are stale.
		if again, _ := b.svc.deliver(ctx, jobs[1].DeliveryID, jobs[1].Generation); again != done || len(rc.requests()) != 4 {
			t.Errorf("a stale job sent again: %d requests", len(rc.requests()))
		}
	})
}

func TestRedirectNotFollowed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		var rc *receiver
		rc = newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/moved" {
				http.Redirect(w, r, rc.URL+"/elsewhere?token=secret-in-location", http.StatusFound)
				return
			}
			w.WriteHeader(200)
		})
		b.addHook(t, "moved", rc.URL+"/moved")
		b.publish(t, sampleEvent())
		b.runJobs(t)
		reqs := rc.requests()
		if len(reqs) != 1 || reqs[0].Path != "/moved" {
			t.Fatalf("requests %+v: the redirect was followed", reqs)
		}
		d := b.only(t)
		if d.Status != StatusPending || d.LastStatus != 302 || !strings.Contains(d.LastError, "redirect") || strings.Contains(d.LastError, "secret-in-location") {
			t.Errorf("delivery after a redirect: %+v", d)
		}
	})
}

func TestAutoPauseAndResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		rc := newReceiver(t, status(500))
		hook, _ := b.addHook(t, "flaky", rc.URL)
		start := b.clock.Now()
		// Events keep coming for five days; every attempt fails.
		for day := 0; day < 5; day++ {
			b.publish(t, sampleEvent())
			b.runJobs(t)
			b.clock.Add(24 * time.Hour)
		}
		got, _ := b.svc.Get(ctx, hook.ID)
		if got.State != StateActive || got.FailingSince == nil || !got.FailingSince.Equal(start) {
			t.Fatalf("before five days: %+v", got)
		}
		// The next failure, five days after the first, pauses it.
		b.publish(t, sampleEvent())
		b.runJobs(t)
		got, _ = b.svc.Get(ctx, hook.ID)
		if got.State != StatePaused || !strings.Contains(got.PauseReason, "5 days") {
			t.Fatalf("after five days: state %s, reason %q", got.State, got.PauseReason)
		}
		held, _ := b.svc.Deliveries(ctx, DeliveryFilter{Hook: hook.ID, Status: StatusHeld})
		if len(held) != 6 {
			t.Errorf("%d held, want 6", len(held))
		}
		// Resume with a fixed receiver: everything pending goes out.
		rc.setRespond(nil)
		n, err := b.svc.Resume(ctx, "flaky")
		if err != nil || n != 6 {
			t.Fatalf("Resume = %d, %v", n, err)
		}
		b.runJobs(t)
		delivered, _ := b.svc.Deliveries(ctx, DeliveryFilter{Hook: hook.ID, Status: StatusDelivered})
		got, _ = b.svc.Get(ctx, hook.ID)
		if len(delivered) != 6 || got.State != StateActive || got.FailingSince != nil || got.LastSuccess == nil {
			t.Errorf("after resume: %d delivered, %+v", len(delivered), got)
		}
	})
}

func TestMaintainPausesAndRecovers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		rc := newReceiver(t, nil)
		quiet, _ := b.addHook(t, "quiet", rc.URL)
		// A failure six days ago and no attempt since (its deliveries wait
		// for a late retry): maintenance pauses it.
		if _, err := st.RecordHookFailure(ctx, quiet.ID, b.clock.Now().Add(-6*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		healthy, _ := b.addHook(t, "healthy", rc.URL)
		if _, err := st.RecordHookFailure(ctx, healthy.ID, b.clock.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		b.publish(t, sampleEvent())
		jobs := b.jobs.take()
		// A worker claims a delivery and dies mid-attempt.
		var dead DeliveryArgs
		for _, j := range jobs {
			if d, _ := st.HookDelivery(ctx, j.DeliveryID); d.HookID == healthy.ID {
				dead = j
			}
		}
		now := b.clock.Now()
		if _, err := st.ClaimHookDelivery(ctx, dead.DeliveryID, dead.Generation, now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		paused, requeued, err := b.svc.Maintain(ctx)
		if err != nil || paused != 1 || requeued != 0 {
			t.Fatalf("Maintain = %d paused, %d requeued, %v; want 1, 0", paused, requeued, err)
		}
		if got, _ := b.svc.Get(ctx, quiet.ID); got.State != StatePaused {
			t.Errorf("quiet: %s", got.State)
		}
		if got, _ := b.svc.Get(ctx, healthy.ID); got.State != StateActive {
			t.Errorf("healthy: %s", got.State)
		}
		// While the lease lives, the delivery is left alone, even by its job.
		if again, _ := b.svc.deliver(ctx, dead.DeliveryID, dead.Generation); again != done || len(rc.requests()) != 0 {
			t.Error("a leased delivery was attempted")
		}
		b.clock.Add(2 * time.Minute)
		if _, requeued, err = b.svc.Maintain(ctx); err != nil || requeued != 1 {
			t.Fatalf("Maintain after the lease = %d requeued, %v", requeued, err)
		}
		b.runJobs(t)
		if d, _ := st.HookDelivery(ctx, dead.DeliveryID); d.Status != StatusDelivered || d.Generation != dead.Generation+1 {
			t.Errorf("recovered delivery: %+v", d)
		}
		if again, _ := b.svc.deliver(ctx, dead.DeliveryID, dead.Generation); again != done || len(rc.requests()) != 1 {
			t.Errorf("the dead worker's job sent again: %d requests", len(rc.requests()))
		}

		// A job lost before its worker leased the delivery: recovered once
		// it has been overdue and untouched for RecoverAfter, not before.
		b.publish(t, sampleEvent())
		lost := b.jobs.take()[0]
		b.clock.Add(DefaultRecoverAfter - time.Second)
		if _, requeued, _ = b.svc.Maintain(ctx); requeued != 0 {
			t.Errorf("recovered %d deliveries before RecoverAfter", requeued)
		}
		b.clock.Add(2 * time.Second)
		if _, requeued, _ = b.svc.Maintain(ctx); requeued != 1 {
			t.Errorf("recovered %d deliveries after RecoverAfter, want 1", requeued)
		}
		b.runJobs(t)
		if d, _ := st.HookDelivery(ctx, lost.DeliveryID); d.Status != StatusDelivered || d.Generation != lost.Generation+1 {
			t.Errorf("lost delivery: %+v", d)
		}
	})
}

func TestDeadLetterAndResend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st, func(c *Config) { c.Schedule = []time.Duration{time.Second} })
		rc := newReceiver(t, status(500))
		hook, _ := b.addHook(t, "dl", rc.URL)
		var evs []event.Event
		for range 3 {
			ev := sampleEvent()
			evs = append(evs, ev)
			b.publish(t, ev)
		}
		for _, j := range b.jobs.take() {
			for range 2 {
				b.svc.deliver(ctx, j.DeliveryID, j.Generation)
				b.clock.Add(time.Second)
			}
		}
		dead, err := b.svc.DeadLetters(ctx, "dl")
		if err != nil || len(dead) != 3 {
			t.Fatalf("DeadLetters = %d, %v; want 3", len(dead), err)
		}
		rc.setRespond(nil)
		// Single resend.
		if n, err := b.svc.Resend(ctx, dead[0].ID); err != nil || n != 1 {
			t.Fatalf("Resend = %d, %v", n, err)
		}
		b.runJobs(t)
		d, _ := b.svc.Delivery(ctx, dead[0].ID)
		if d.Status != StatusDelivered || d.Attempts != 3 || d.RoundAttempts != 1 || len(d.AttemptLog) != 3 {
			t.Errorf("resent delivery: %+v", d)
		}
		// Unknown ids fail the whole resend.
		if _, err := b.svc.Resend(ctx, dead[1].ID, "hkd_nope"); err == nil {
			t.Error("Resend of an unknown id succeeded")
		}
		if jobs := b.jobs.take(); len(jobs) != 0 {
			// The jobLog does not roll back; what matters is the row.
			if d, _ := st.HookDelivery(ctx, dead[1].ID); d.Status != StatusDead {
				t.Errorf("a failed bulk resend changed a delivery: %s", d.Status)
			}
		}
		// Bulk resend of the rest.
		if n, err := b.svc.ResendDead(ctx, hook.ID); err != nil || n != 2 {
			t.Fatalf("ResendDead = %d, %v", n, err)
		}
		b.runJobs(t)
		if dead, _ := b.svc.DeadLetters(ctx, ""); len(dead) != 0 {
			t.Errorf("%d dead letters left", len(dead))
		}
		// Every event arrived with its own id as webhook-id, retries included.
		ids := map[string]int{}
		for _, r := range rc.requests() {
			var ev event.Event
			json.Unmarshal(r.Body, &ev)
			if r.Header.Get("webhook-id") != ev.ID {
				t.Errorf("webhook-id %s for event %s", r.Header.Get("webhook-id"), ev.ID)
			}
			ids[ev.ID]++
		}
		for _, ev := range evs {
			if ids[ev.ID] != 3 {
				t.Errorf("event %s sent %d times, want 3", ev.ID, ids[ev.ID])
			}
		}
	})
}

func TestAutomationFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		on, off := true, false
		autos := map[string]AutomationInput{
			"all":        {AllTitles: true},
			"unused":     {Titles: []string{"Unused Admin Account", "Unused Account"}},
			"critical":   {AllTitles: true, Severities: []string{"Critical"}},
			"mfa-okta":   {AllTitles: true, Categories: []string{"MFA"}, Products: []string{"Okta"}},
			"lifecycle":  {AllTitles: true, EventTypes: []string{"issue.created", "issue.resolved"}},
			"updates":    {AllTitles: true, EventTypes: []string{"issue.updated"}},
			"switch-off": {AllTitles: true, AutoSend: &off},
			"switch-on":  {AllTitles: true, AutoSend: &on},
		}
		ids := map[string]string{}
		for name, a := range autos {
			in, _, err := b.svc.Create(ctx, Input{Name: name, URL: "https://example.com/" + name})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.svc.SetAutomation(ctx, in.ID, a); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ids[in.ID] = name
		}
		b.svc.Create(ctx, Input{Name: "no-automation", URL: "https://example.com/none"})
		tests := []struct {
			ev   event.Event
			want string // sorted names of the integrations that get it
		}{
			{newEvent("issue.created", "Unused Admin Account", "High", "Least Privilege", "Okta"), "all lifecycle switch-on unused"},
			{newEvent("issue.created", "Unused Global Admin Account", "Critical", "Least Privilege", "AAD"), "all critical lifecycle switch-on"},
			{newEvent("issue.created", "No MFA - Account", "Medium", "MFA", "Okta"), "all lifecycle mfa-okta switch-on"},
			{newEvent("issue.created", "No MFA - Account", "Medium", "MFA", "Google Workspace"), "all lifecycle switch-on"},
			{newEvent("issue.updated", "Unused Account", "Low", "Least Privilege", "Okta"), "updates"},
			{newEvent("issue.resolved", "Unused Account", "Low", "Least Privilege", "Okta"), "lifecycle"},
		}
		for _, tt := range tests {
			b.publish(t, tt.ev)
			ds, err := b.svc.Deliveries(ctx, DeliveryFilter{EventID: tt.ev.ID})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, d := range ds {
				names = append(names, ids[d.HookID])
			}
			if got := sortedJoin(names); got != tt.want {
				t.Errorf("%s %q %s %s %s went to [%s], want [%s]", tt.ev.Type, tt.ev.EventData.Title, tt.ev.EventData.Severity,
					tt.ev.EventData.Category, tt.ev.EventData.AffectedEntity.SourceProductName, got, tt.want)
			}
		}
		// Filtering by issue finds the same deliveries.
		if ds, _ := b.svc.Deliveries(ctx, DeliveryFilter{IssueID: tests[0].ev.EventData.ID}); len(ds) != 4 {
			t.Errorf("by issue: %d deliveries, want 4", len(ds))
		}
		// An edit applies to events after it only.
		var unusedID string
		for id, n := range ids {
			if n == "unused" {
				unusedID = id
			}
		}
		before, _ := b.svc.Deliveries(ctx, DeliveryFilter{Hook: unusedID})
		if _, err := b.svc.SetAutomation(ctx, unusedID, AutomationInput{Titles: []string{"Unused Account"}, AutoSend: &off}); err != nil {
			t.Fatal(err)
		}
		b.publish(t, newEvent("issue.created", "Unused Account", "Low", "Least Privilege", "Okta"))
		after, _ := b.svc.Deliveries(ctx, DeliveryFilter{Hook: unusedID})
		if len(before) != 1 || len(after) != 1 {
			t.Errorf("unused: %d deliveries before the edit, %d after; want 1 and 1", len(before), len(after))
		}
	})
}

func sortedJoin(s []string) string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return strings.Join(s, " ")
}

func TestAutomationValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		in, _, _ := b.svc.Create(ctx, Input{Name: "v", URL: "https://example.com"})
		off := false
		tests := []struct {
			in    AutomationInput
			field string
		}{
			{AutomationInput{}, "titles"},
			{AutomationInput{AutoSend: &off}, ""},
			{AutomationInput{Titles: []string{"Unused Admin Account", " Unused Admin Account "}}, ""},
			{AutomationInput{Titles: []string{"unused admin account"}}, "titles"},
			{AutomationInput{AllTitles: true, Titles: []string{"Unused Account"}}, "titles"},
			{AutomationInput{AllTitles: true, Severities: []string{"Severe"}}, "severities"},
			{AutomationInput{AllTitles: true, Categories: []string{"Hygiene"}}, "categories"},
			{AutomationInput{AllTitles: true, Products: []string{"Azure"}}, "products"},
			{AutomationInput{AllTitles: true, EventTypes: []string{"issue.deleted"}}, "eventTypes"},
		}
		for i, tt := range tests {
			a, err := b.svc.SetAutomation(ctx, in.ID, tt.in)
			if tt.field == "" {
				if err != nil {
					t.Errorf("%d: %v", i, err)
				} else if len(a.Titles) > 1 {
					t.Errorf("%d: titles not deduplicated: %q", i, a.Titles)
				}
				continue
			}
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != tt.field {
				t.Errorf("%d: %v, want an invalid %s", i, err, tt.field)
			}
		}
	})
}

func TestHugeResponse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		chunk := make([]byte, 64<<10)
		for i := range chunk {
			chunk[i] = 'x'
		}
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(1<<30))
			w.WriteHeader(200)
			for written := 0; written < 1<<30; written += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return // the sender hung up, as it should
				}
			}
		})
		b.addHook(t, "huge", rc.URL)
		b.publish(t, sampleEvent())
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.runJobs(t)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Errorf("an attempt against a 1 GB answer allocated %d MB", grew>>20)
		}
		d := b.only(t)
		full, _ := b.svc.Delivery(context.Background(), d.ID)
		a := full.AttemptLog[0]
		if d.Status != StatusDelivered || !a.Truncated || len(a.Response) != DefaultMaxResponse {
			t.Errorf("status %s, truncated %v, %d bytes kept", d.Status, a.Truncated, len(a.Response))
		}
	})
}

func TestConnectionDroppedMidBody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		url, got := rawServer(t, func(conn net.Conn, _ rawRequest) {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial")
		})
		b.addHook(t, "dropper", url)
		b.publish(t, sampleEvent())
		snoozes := b.runJobs(t)
		d := b.only(t)
		if len(got()) != 1 || d.Status != StatusPending || snoozes[0] != 5*time.Second || !strings.Contains(d.LastError, "could not be read") {
			t.Errorf("after a dropped answer: %+v, snoozes %v", d, snoozes)
		}
		full, _ := b.svc.Delivery(context.Background(), d.ID)
		if a := full.AttemptLog[0]; a.ErrorKind != KindReadBody || a.Response != "partial" {
			t.Errorf("attempt %+v", a)
		}
	})
}

func TestDeliveryBlockedBySSRFGuard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, nil)
		// The URL passes validation (its http host is allowlisted for the
		// form), but the client the sender uses has no allowlist.
		b := setup(t, st, func(c *Config) { c.Client = netguard.NewClient(netguard.Config{}) })
		b.addHook(t, "internal", rc.URL)
		b.publish(t, sampleEvent())
		b.runJobs(t)
		d := b.only(t)
		full, _ := b.svc.Delivery(context.Background(), d.ID)
		if len(rc.requests()) != 0 || d.Status != StatusPending || full.AttemptLog[0].ErrorKind != KindSSRFBlocked {
			t.Errorf("blocked delivery: %d requests, %+v, %+v", len(rc.requests()), d, full.AttemptLog[0])
		}
	})
}

func TestReceiverNeverAnswers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, func(c *Config) { c.RequestTimeout = 200 * time.Millisecond })
		release := make(chan struct{})
		defer close(release)
		rc := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		b.addHook(t, "silent", rc.URL)
		b.publish(t, sampleEvent())
		b.runJobs(t)
		d := b.only(t)
		full, _ := b.svc.Delivery(context.Background(), d.ID)
		if d.Status != StatusPending || d.RoundAttempts != 1 || full.AttemptLog[0].ErrorKind != KindTimeout || d.LeasedUntil != (time.Time{}) {
			t.Errorf("after a silent receiver: %+v, %+v", d, full.AttemptLog[0])
		}
	})
}

// TestDeliveriesWithTheirAttempts checks that a list asked for attempts
// gives each delivery its own, as Delivery does, and a list that was not
// asked gives none.
func TestDeliveriesWithTheirAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b, _ := setupFailing(t, st)
		b.publish(t, sampleEvent())
		b.publish(t, sampleEvent())
		jobs := b.jobs.take()
		if len(jobs) != 2 {
			t.Fatalf("%d jobs, want 2", len(jobs))
		}
		// The first delivery is attempted once, the second three times.
		for i, j := range []DeliveryArgs{jobs[0], jobs[1], jobs[1], jobs[1]} {
			if _, err := b.svc.deliver(ctx, j.DeliveryID, j.Generation); err != nil {
				t.Fatalf("attempt %d: %v", i, err)
			}
			b.clock.Add(time.Hour)
		}
		list, err := b.svc.Deliveries(ctx, DeliveryFilter{Attempts: true})
		if err != nil || len(list) != 2 {
			t.Fatalf("Deliveries: %d, %v", len(list), err)
		}
		counts := map[string]int{}
		for _, d := range list {
			full, err := b.svc.Delivery(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.AttemptLog, full.AttemptLog) {
				t.Errorf("delivery %s: listed attempts %+v, want %+v", d.ID, d.AttemptLog, full.AttemptLog)
			}
			counts[d.ID] = len(d.AttemptLog)
		}
		if counts[jobs[0].DeliveryID] != 1 || counts[jobs[1].DeliveryID] != 3 {
			t.Errorf("attempts by delivery %v, want 1 and 3", counts)
		}
		plain, err := b.svc.Deliveries(ctx, DeliveryFilter{})
		if err != nil || len(plain) != 2 || plain[0].AttemptLog != nil || plain[1].AttemptLog != nil {
			t.Errorf("a list without attempts: %+v, %v", plain, err)
		}
	})
}
