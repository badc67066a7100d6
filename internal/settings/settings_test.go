package settings_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/settings"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestCheck checks each setting's rule: the canonical form of a value it
// takes, and a one-sentence refusal naming the setting's form field for
// one it does not.
func TestCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s        settings.Setting
		in, want string
		refused  bool
	}{
		{settings.PublicURL, " https://vigil.example.com/ ", "https://vigil.example.com", false},
		{settings.PublicURL, "", "", false},
		{settings.PublicURL, "ftp://vigil.example.com", "", true},
		{settings.PublicURL, "https://vigil.example.com/?a=1", "", true},
		{settings.AllowOutbound, " 10.0.0.0/8, 127.0.0.0/8 ", "10.0.0.0/8, 127.0.0.0/8", false},
		{settings.AllowOutbound, "10.0.0.0/99", "", true},
		{settings.HistoryDays, " 7 ", "7", false},
		{settings.HistoryDays, "0", "", true},
		{settings.DeliveryDays, "3650", "3650", false},
		{settings.DeliveryDays, "3651", "", true},
		{settings.DeliveryDays, "ten", "", true},
	}
	for _, c := range cases {
		got, err := c.s.Check(c.in)
		var ie *settings.InvalidError
		switch {
		case c.refused && !errors.As(err, &ie):
			t.Errorf("%s %q: err = %v, want an InvalidError", c.s.Key, c.in, err)
		case c.refused && (ie.Field != c.s.Field || !strings.HasSuffix(ie.Message, ".")):
			t.Errorf("%s %q: refusal %+v does not name field %s in a sentence", c.s.Key, c.in, ie, c.s.Field)
		case !c.refused && (err != nil || got != c.want):
			t.Errorf("%s %q = %q, %v; want %q", c.s.Key, c.in, got, err, c.want)
		}
	}
	seen := map[string]bool{}
	for _, s := range settings.All() {
		for _, name := range []string{s.Key, "field " + s.Field, "json " + s.JSON} {
			if seen[name] {
				t.Errorf("two settings are named %s", name)
			}
			seen[name] = true
		}
		if got, ok := settings.ByField(s.Field); !ok || got.Key != s.Key {
			t.Errorf("ByField(%q) = %q, %v", s.Field, got.Key, ok)
		}
	}
}

// TestService saves settings in each database, reads them back with the
// defaults for those never saved, refuses a bad value without changing
// anything, and records each change in the audit log.
func TestService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(clocktest.Start)
		svc := settings.NewService(st.Queries, clock.Now, settings.Values{PublicURL: "http://127.0.0.1:8080"})
		v, err := svc.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := (settings.Values{PublicURL: "http://127.0.0.1:8080", HistoryDays: 30, DeliveryDays: 30}); v != want {
			t.Fatalf("defaults = %+v, want %+v", v, want)
		}
		saved := settings.Values{PublicURL: "https://vigil.example.com/", AllowOutbound: "10.0.0.0/8", HistoryDays: 7, DeliveryDays: 14}
		if err := svc.Save(ctx, saved); err != nil {
			t.Fatal(err)
		}
		want := settings.Values{PublicURL: "https://vigil.example.com", AllowOutbound: "10.0.0.0/8", HistoryDays: 7, DeliveryDays: 14}
		if v, err = svc.Settings(ctx); err != nil || v != want {
			t.Fatalf("after save = %+v, %v; want %+v", v, err, want)
		}
		if key, _ := st.Setting(ctx, settings.HistoryDays.Key); key != "7" {
			t.Errorf("stored %s = %q, want 7", settings.HistoryDays.Key, key)
		}

		bad := want
		bad.AllowOutbound, bad.HistoryDays = "10.0.0.0/8", 0
		var ie *settings.InvalidError
		if err := svc.Save(ctx, bad); !errors.As(err, &ie) || ie.Field != settings.HistoryDays.Field {
			t.Fatalf("saving 0 days: err = %v, want an InvalidError for %s", err, settings.HistoryDays.Field)
		}
		if v, err = svc.Settings(ctx); err != nil || v != want {
			t.Errorf("a refused save changed the settings to %+v", v)
		}

		entries, err := st.AuditEntries(ctx, store.AuditFilter{ActionPrefix: "settings"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || !strings.Contains(entries[0].Details, `"flow_history_days":{"from":"30","to":"7"}`) {
			t.Errorf("audit entries = %+v, want one recording the change of history from 30 to 7 days", entries)
		}
	})
}
