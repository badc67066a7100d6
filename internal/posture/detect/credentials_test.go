package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

func TestOldPassword(t *testing.T) {
	t.Parallel()
	changed := func(at *time.Time) func(*graph.Account) { return func(a *graph.Account) { a.PasswordChanged = at } }
	checkOneTitle(t, oldPassword, []oneTitleCase{
		{"recent", with(), Config{}, ""},
		{"no password", with(changed(nil)), Config{}, ""},
		{"365 days", with(changed(daysAgo(365))), Config{}, ""},
		{"366 days", with(changed(daysAgo(366))), Config{}, TitleOldPasswordAccount},
		{"admin 180 days", with(admin, changed(daysAgo(180))), Config{}, ""},
		{"admin 180 days and a second", with(admin, changed(justOver(180))), Config{}, TitleOldPasswordAdmin},
		{"global admin 181 days", with(global, changed(daysAgo(181))), Config{}, TitleOldPasswordGlobalAdmin},
		{"service 365 days", with(service, changed(daysAgo(365))), Config{}, ""},
		{"service 366 days", with(service, changed(daysAgo(366))), Config{}, TitleOldPasswordService},
		{"admin service 181 days", with(service, admin, changed(daysAgo(181))), Config{}, TitleOldPasswordAdminService},
		{"global admin service 181 days", with(service, global, changed(daysAgo(181))), Config{}, TitleOldPasswordGlobalAdminService},
		{"custom limit", with(changed(daysAgo(31))), Config{PasswordMaxAgeDays: 30}, TitleOldPasswordAccount},
		{"custom admin limit", with(admin, changed(daysAgo(31))), Config{AdminPasswordMaxAgeDays: 30}, TitleOldPasswordAdmin},
		{"root", with(root, changed(daysAgo(1000))), Config{}, ""},
		{"deprovisioned", with(status(graph.StatusDeprovisioned), changed(daysAgo(1000))), Config{}, ""},
	})
}

func TestCredentialAge(t *testing.T) {
	t.Parallel()
	tok := func(kind graph.CredentialKind, id string, created, rotated, used *time.Time, active bool) func(*graph.Account) {
		c := graph.Credential{ID: id, Kind: kind, Active: active, LastRotated: rotated, LastUsed: used}
		if created != nil {
			c.Created = *created
		}
		return cred(c)
	}
	const (
		api = graph.CredentialAPIToken
		sec = graph.CredentialClientSecret
		key = graph.CredentialAccessKey
	)
	tests := []struct {
		name   string
		a      *graph.Account
		c      Config
		want   []string
		tokens []string // ids listed in unrotatedTokens, in title order
	}{
		{"fresh token", with(tok(api, "t1", daysAgo(90), nil, daysAgo(1), true)), Config{}, nil, nil},
		{"old token", with(tok(api, "t1", justOver(90), nil, daysAgo(1), true)), Config{}, []string{TitleUnrotatedAPIToken}, []string{"t1"}},
		{"old client secret", with(service, tok(sec, "s1", daysAgo(91), nil, nil, true)), Config{}, []string{TitleUnrotatedAPIToken}, []string{"s1"}},
		{"rotated token", with(tok(api, "t1", daysAgo(400), daysAgo(10), daysAgo(1), true)), Config{}, nil, nil},
		{"revoked old token", with(tok(api, "t1", daysAgo(400), nil, nil, false)), Config{}, nil, nil},
		{"token of unknown age", with(tok(api, "t1", nil, nil, nil, true)), Config{}, nil, nil},
		{"only the old tokens are listed", with(tok(api, "t1", daysAgo(100), nil, daysAgo(1), true), tok(api, "t2", daysAgo(5), nil, daysAgo(1), true), tok(sec, "s3", daysAgo(200), nil, nil, true)), Config{}, []string{TitleUnrotatedAPIToken}, []string{"t1", "s3"}},
		{"token custom limit", with(tok(api, "t1", daysAgo(31), nil, daysAgo(1), true)), Config{TokenMaxAgeDays: 30}, []string{TitleUnrotatedAPIToken}, []string{"t1"}},
		{"suspended owner", with(status(graph.StatusSuspended), tok(api, "t1", daysAgo(400), nil, nil, true)), Config{}, nil, nil},

		{"fresh key", with(tok(key, "k1", daysAgo(90), nil, daysAgo(90), true)), Config{}, nil, nil},
		{"old used key", with(tok(key, "k1", daysAgo(91), nil, daysAgo(1), true)), Config{}, []string{TitleUnrotatedAccessKey}, []string{"k1"}},
		{"old key rotated recently", with(tok(key, "k1", daysAgo(300), daysAgo(20), daysAgo(1), true)), Config{}, nil, nil},
		{"old unused key raises both", with(tok(key, "k1", daysAgo(200), nil, daysAgo(91), true)), Config{}, []string{TitleUnrotatedAccessKey, TitleUnusedAccessKey}, []string{"k1", "k1"}},
		{"never-used key created 91 days ago", with(tok(key, "k1", daysAgo(91), daysAgo(30), nil, true)), Config{}, []string{TitleUnusedAccessKey}, []string{"k1"}},
		{"never-used key created 90 days ago", with(tok(key, "k1", daysAgo(90), nil, nil, true)), Config{}, nil, nil},
		{"inactive key", with(tok(key, "k1", daysAgo(400), nil, nil, false)), Config{}, nil, nil},
		{"key limits", with(tok(key, "k1", daysAgo(40), nil, daysAgo(20), true)), Config{AccessKeyMaxAgeDays: 30, AccessKeyUnusedDays: 10}, []string{TitleUnrotatedAccessKey, TitleUnusedAccessKey}, []string{"k1", "k1"}},
		{"root keys are left to the root title", with(root, tok(key, "k1", daysAgo(400), nil, nil, true)), Config{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			build(t, graph.ProductAWS, tt.a)
			c := tt.c.WithDefaults()
			var got, ids []string
			for _, r := range []accountRule{unrotatedToken, unrotatedAccessKey, unusedAccessKey} {
				if h, ok := r(tt.a, c, now); ok {
					got = append(got, h.title)
					for _, cr := range h.creds {
						ids = append(ids, cr.ID)
					}
				}
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(ids, tt.tokens) {
				t.Errorf("titles = %q with tokens %q, want %q with %q", got, ids, tt.want, tt.tokens)
			}
		})
	}
}
