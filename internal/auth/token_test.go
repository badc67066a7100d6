package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		u := b.user(t, "alice", RoleWorkflowsAdmin, goodPassword)
		info, raw, err := b.svc.CreateToken(b.ctx, u.ID, "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, "vgl_") || len(raw) != apiTokenLen || info.UserName != "alice" || info.ExpiresAt != nil {
			t.Fatalf("CreateToken = %+v, %q", info, raw)
		}
		row, _ := st.APIToken(b.ctx, info.ID)
		if row.TokenHash == raw || strings.Contains(row.TokenHash, raw[4:]) {
			t.Fatal("the token itself is stored")
		}

		got, tok, err := b.svc.TokenUser(b.ctx, raw)
		if err != nil || got.ID != u.ID || tok.ID != info.ID {
			t.Fatalf("TokenUser = %v, %v, %v", got, tok, err)
		}
		lastUsed := func() time.Time {
			t.Helper()
			tk, err := b.svc.Token(b.ctx, info.ID)
			if err != nil || tk.LastUsedAt == nil {
				t.Fatalf("Token = %+v, %v", tk, err)
			}
			return *tk.LastUsedAt
		}
		first := lastUsed()
		if !first.Equal(b.clock.Now()) {
			t.Errorf("last used %s; want %s", first, b.clock.Now())
		}
		// Within a minute, uses do not write.
		b.clock.Add(59 * time.Second)
		b.svc.TokenUser(b.ctx, raw)
		if got := lastUsed(); !got.Equal(first) {
			t.Errorf("last used moved to %s within a minute", got)
		}
		b.clock.Add(2 * time.Second)
		b.svc.TokenUser(b.ctx, raw)
		if got := lastUsed(); !got.Equal(b.clock.Now()) {
			t.Errorf("last used %s after a minute; want %s", got, b.clock.Now())
		}

		if err := b.svc.RevokeToken(b.ctx, info.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.svc.TokenUser(b.ctx, raw); !errors.Is(err, ErrUnknownToken) {
			t.Errorf("revoked token: %v", err)
		}
		if err := b.svc.RevokeToken(b.ctx, info.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoke twice: %v", err)
		}
	})
}

func TestAPITokenRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		u := b.user(t, "alice", RoleWorkflowsAdmin, goodPassword)
		off := b.user(t, "off", RoleWorkflowsAdmin, goodPassword)
		_, short, err := b.svc.CreateToken(b.ctx, u.ID, "short-lived", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		_, offTok, _ := b.svc.CreateToken(b.ctx, off.ID, "", 0)
		yes := true
		if _, err := b.svc.UpdateUser(b.ctx, off.ID, UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(time.Hour)
		_, valid, _ := b.svc.CreateToken(b.ctx, u.ID, "valid", 0)

		tests := []struct {
			name, token string
			want        error
		}{
			{"empty", "", ErrMalformedToken},
			{"no prefix", valid[4:], ErrMalformedToken},
			{"other prefix", "ghp_" + valid[4:], ErrMalformedToken},
			{"too short", valid[:len(valid)-1], ErrMalformedToken},
			{"too long", valid + "a", ErrMalformedToken},
			{"upper case", strings.ToUpper(valid), ErrMalformedToken},
			{"never issued", "vgl_" + strings.Repeat("a", 52), ErrUnknownToken},
			{"expired", short, ErrExpiredToken},
			{"disabled user", offTok, ErrUnknownToken},
		}
		for _, tt := range tests {
			if _, _, err := b.svc.TokenUser(b.ctx, tt.token); !errors.Is(err, tt.want) {
				t.Errorf("%s: TokenUser = %v; want %v", tt.name, err, tt.want)
			}
		}
		if _, _, err := b.svc.TokenUser(b.ctx, valid); err != nil {
			t.Errorf("valid token: %v", err)
		}
		if _, _, err := b.svc.CreateToken(b.ctx, off.ID, "x", 0); err == nil {
			t.Error("created a token for a disabled user")
		}
		if _, _, err := b.svc.CreateToken(b.ctx, u.ID, "bad\nname", 0); err == nil {
			t.Error("accepted a control character in the token name")
		}
		all, err := b.svc.Tokens(b.ctx, "")
		if err != nil || len(all) != 3 {
			t.Fatalf("Tokens(all) = %d, %v", len(all), err)
		}
		mine, _ := b.svc.Tokens(b.ctx, u.ID)
		if len(mine) != 2 || mine[0].Name != "valid" || mine[0].UserName != "alice" {
			t.Errorf("Tokens(alice) = %+v; want 2, newest first", mine)
		}
	})
}

// TestTokenUseWhileWriterBusy holds a write on the token's row (on SQLite
// the one writer, on PostgreSQL the row's lock) as a long scan does: a
// request signed with the token is answered without recording its use,
// does not try again on every request, and records it once the writer is
// free and the interval has passed.
func TestTokenUseWhileWriterBusy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		u := b.user(t, "alice", RoleWorkflowsAdmin, goodPassword)
		info, raw, err := b.svc.CreateToken(b.ctx, u.ID, "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		b.whileWriterBusy(t, st, "API token use", func(tx *store.Tx) error {
			long := b.clock.Now().Add(-time.Hour)
			_, err := tx.TouchAPIToken(b.ctx, info.ID, long, b.clock.Now().Add(time.Hour))
			return err
		}, func() error {
			got, _, err := b.svc.TokenUser(b.ctx, raw)
			if err == nil && got.ID != u.ID {
				err = fmt.Errorf("the token is %s's", got.ID)
			}
			return err
		})
		b.clock.Add(touchInterval)
		if _, _, err := b.svc.TokenUser(b.ctx, raw); err != nil {
			t.Fatal(err)
		}
		if tk, err := b.svc.Token(b.ctx, info.ID); err != nil || tk.LastUsedAt == nil || !tk.LastUsedAt.Equal(b.clock.Now()) {
			t.Fatalf("Token = %+v, %v; want last used %s", tk, err, b.clock.Now())
		}
	})
}
