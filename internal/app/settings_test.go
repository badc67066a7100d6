package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/settings"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestSavedSettings checks that what Admin → Settings saved is used at the
// next start unless a flag gives the value, and that the keys the console
// writes are the ones the server reads.
func TestSavedSettings(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		dir, db := t.TempDir(), storetest.DatabaseURL(t, dialect)
		open := func(cfg app.Config) *app.App {
			cfg.DataDir, cfg.DatabaseURL, cfg.LogOutput = dir, db, &logtest.Buffer{}
			a, err := app.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			return a
		}
		a := open(app.Config{})
		if a.Config.PublicURL != "http://127.0.0.1:8080" || a.Config.HistoryRetention != 30*24*time.Hour || len(a.Allow) != 0 {
			t.Fatalf("defaults: %+v", a.Config)
		}
		s := settings.NewService(a.Store.Queries, nil, settings.Values{})
		if err := s.Save(ctx, settings.Values{PublicURL: "https://vigil.example.com/", AllowOutbound: "10.0.0.0/8",
			HistoryDays: 7, DeliveryDays: 14}); err != nil {
			t.Fatal(err)
		}
		b := open(app.Config{})
		if b.Config.PublicURL != "https://vigil.example.com" || b.Config.AllowOutbound != "10.0.0.0/8" || len(b.Allow) != 1 ||
			b.Config.HistoryRetention != 7*24*time.Hour || b.Config.DeliveryRetention != 14*24*time.Hour {
			t.Errorf("saved settings not applied: %+v", b.Config)
		}
		c := open(app.Config{PublicURL: "https://flag.example.com", AllowOutbound: "192.168.0.0/16"})
		if c.Config.PublicURL != "https://flag.example.com" || c.Config.AllowOutbound != "192.168.0.0/16" {
			t.Errorf("flags did not win over saved settings: %+v", c.Config)
		}

		// A running server reads the retention settings at each
		// retention run, so a change applies without a restart; a
		// retention the caller fixed is never replaced.
		history, deliveries := c.RetentionSetting(settings.HistoryDays.Key, 0), c.RetentionSetting(settings.DeliveryDays.Key, 0)
		if history == nil || deliveries == nil {
			t.Fatal("no live retention setting when the caller gave none")
		}
		if h, d := history(ctx), deliveries(ctx); h != 7*24*time.Hour || d != 14*24*time.Hour {
			t.Errorf("live retention = %v and %v, want 7 and 14 days", h, d)
		}
		if err := s.Save(ctx, settings.Values{HistoryDays: 3, DeliveryDays: 60}); err != nil {
			t.Fatal(err)
		}
		if h, d := history(ctx), deliveries(ctx); h != 3*24*time.Hour || d != 60*24*time.Hour {
			t.Errorf("after a change the live retention = %v and %v, want 3 and 60 days", h, d)
		}
		if c.RetentionSetting(settings.HistoryDays.Key, time.Hour) != nil {
			t.Error("a retention the caller gave would be replaced by the saved setting")
		}
	})
}
