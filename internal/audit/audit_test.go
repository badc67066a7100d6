package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter(FilterInput{Actor: " alice ", Action: "flow.", Since: "2026-12-01", Until: "2026-12-02T09:30:00Z", Limit: "10",
		Before: "aud_01JD5Q9Z8W3K4M6N7P8R9S0T1V"})
	if err != nil {
		t.Fatal(err)
	}
	want := Filter{Actor: "alice", ActionPrefix: "flow.", Since: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Until: time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC), Before: "aud_01JD5Q9Z8W3K4M6N7P8R9S0T1V", Limit: 10}
	if f != want {
		t.Errorf("ParseFilter = %+v; want %+v", f, want)
	}
	if f, err := ParseFilter(FilterInput{}); err != nil || f.Limit != DefaultLimit {
		t.Errorf("empty filter: %+v, %v; want the default limit", f, err)
	}
	for _, tc := range []struct {
		in    FilterInput
		field string
	}{
		{FilterInput{Action: "flow%"}, "action"},
		{FilterInput{Action: "Flow"}, "action"},
		{FilterInput{Since: "last week"}, "since"},
		{FilterInput{Until: "2026-02-30"}, "until"},
		{FilterInput{Since: "2026-12-02", Until: "2026-12-02"}, "until"},
		{FilterInput{Before: "iss_01JD5Q9Z8W3K4M6N7P8R9S0T1V"}, "before"},
		{FilterInput{Limit: "-1"}, "limit"},
		{FilterInput{Limit: "many"}, "limit"},
	} {
		_, err := ParseFilter(tc.in)
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field || !strings.HasSuffix(ie.Message, ".") {
			t.Errorf("ParseFilter(%+v) = %v; want one sentence about %s", tc.in, err, tc.field)
		}
	}
}

// TestRecorder checks where an entry's actor comes from and that the log
// pages through entries in the order they were written, even when they
// share a time.
func TestRecorder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
		r := NewRecorder(st, nil, func() time.Time { return at })
		r.Record(ctx, Entry{Action: "settings.update"})
		alice := Actor{Kind: ActorUser, ID: "usr_a", Name: "alice", Address: "192.0.2.7"}
		for i := range 5 {
			r.Record(WithActor(ctx, alice), Entry{Action: "flow.enable", Target: Target{Kind: "flow", Name: string(rune('a' + i))}})
		}
		// A sign-in names its own actor; the address stays the request's.
		r.Record(WithActor(ctx, Actor{Kind: ActorAnonymous, Address: "192.0.2.8"}),
			Entry{Action: "auth.signin", Actor: &Actor{Kind: ActorUser, ID: "usr_b", Name: "bob"}})

		log := NewLog(st.Queries)
		page, err := log.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got := page.Entries
		if len(got) != 7 {
			t.Fatalf("%d entries; want 7", len(got))
		}
		if e := got[0]; e.Actor.Name != "bob" || e.Actor.Address != "192.0.2.8" || e.Outcome != Success {
			t.Errorf("sign-in entry %+v; want bob from 192.0.2.8", e)
		}
		if e := got[6]; e.Actor.Kind != ActorSystem || !e.At.Equal(at) {
			t.Errorf("entry without an actor %+v; want the system at %s", e, at)
		}
		var names []string
		f := Filter{Actor: "alice", Limit: 2}
		for {
			p, err := log.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Entries {
				names = append(names, e.Target.Name)
			}
			if p.Next == "" {
				break
			}
			f.Before = p.Next
		}
		if strings.Join(names, "") != "edcba" {
			t.Errorf("alice's entries in pages of 2: %q; want edcba, the last written first", strings.Join(names, ""))
		}
	})
}
