package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// TokenPrefix starts every API token, so that a leaked one is easy to
// recognise (by people and by secret scanners) as Vigil's.
const TokenPrefix = "vgl_"

// apiTokenLen is the length of a token: the prefix and 256 random bits in base32.
const apiTokenLen = len(TokenPrefix) + 52

// touchInterval is how stale last_used_at may get: a busy token costs at
// most one write per interval.
const touchInterval = time.Minute

// touchWait is how long a request waits to record its token's use. On
// SQLite a write waits for the one writer, and a large scan holds it for
// its whole transaction (a minute at a million accounts): a request that
// only reads must not wait for it to record a time it has.
const touchWait = 100 * time.Millisecond

// touches remembers when this process last tried to record each token's
// use (by token id) or each session's activity (by its token's hash), so
// that a write given up on (the writer busy) is tried again after
// touchInterval, not on every request meanwhile.
type touches struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due reports whether the use of token id (or the activity of the session
// whose token hashes to id) should be written at now, and if so counts
// this as the try.
func (t *touches) due(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.last[id]; ok && now.Sub(last) < touchInterval {
		return false
	}
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	// The map holds one time per token used in the last interval; older
	// ones are dropped as it grows so that it stays that size.
	if len(t.last) >= 1024 {
		for k, v := range t.last {
			if now.Sub(v) >= touchInterval {
				delete(t.last, k)
			}
		}
	}
	t.last[id] = now
	return true
}

// touch runs write, which records what (a token's use, a session's new
// idle expiry), waiting at most touchWait for it. Losing such a write is
// not worth failing the request, or keeping it waiting behind a long
// write transaction: it is logged, and tried again when next due.
func (s *Service) touch(ctx context.Context, what string, write func(ctx context.Context) error, args ...any) {
	tctx, cancel := context.WithTimeout(ctx, touchWait)
	err := write(tctx)
	cancel()
	switch {
	case err == nil, errors.Is(err, store.ErrNotFound), ctx.Err() != nil: // the caller went away
	case tctx.Err() != nil:
		s.log.Debug(what+" not recorded: the database writer is busy; trying again in a minute", args...)
	default:
		s.log.Warn("could not record "+what, append(args, "error", err)...)
	}
}

// Token describes an API token; the token itself is shown only once, when
// it is created.
type Token struct {
	ID       string `json:"id"`
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	// Name is a label saying what the token is for.
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
}

func tokenFromRow(r *store.APIToken) *Token {
	t := &Token{ID: r.ID, UserID: r.UserID, Name: r.Name, CreatedAt: r.CreatedAt}
	if !r.LastUsedAt.IsZero() {
		v := r.LastUsedAt
		t.LastUsedAt = &v
	}
	if !r.ExpiresAt.IsZero() {
		v := r.ExpiresAt
		t.ExpiresAt = &v
	}
	return t
}

// Token authentication failures. They are distinct so that the 401 answer
// can say what to fix; none of them reveals anything about other tokens.
var (
	// ErrMalformedToken is a bearer value that is not a Vigil API token.
	ErrMalformedToken = errors.New("the Authorization header must be \"Bearer\" followed by a Vigil API token (vgl_…)")
	// ErrUnknownToken is a well-formed token that does not exist: never
	// issued, or revoked.
	ErrUnknownToken = errors.New("the API token is not valid or has been revoked")
	// ErrExpiredToken is a token past its expiry.
	ErrExpiredToken = errors.New("the API token has expired; create a new one")
)

// CreateToken makes an API token for a user, labelled name, lasting ttl (0
// for until revoked). It returns the token's description and the token
// itself, which is not stored and cannot be shown again.
func (s *Service) CreateToken(ctx context.Context, userID, name string, ttl time.Duration) (*Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	if len(name) > 100 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return nil, "", invalid("name", "The token name must be at most 100 characters, without control characters.")
	}
	if ttl < 0 {
		return nil, "", invalid("expiresIn", "The token lifetime must not be negative.")
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if u.Disabled {
		return nil, "", invalid("user", fmt.Sprintf("The user %q is disabled; enable it before creating tokens.", u.Name))
	}
	now := s.cfg.Now()
	raw := TokenPrefix + id.Token(32)
	row := &store.APIToken{ID: id.NewAt("tok", now), UserID: u.ID, Name: name, TokenHash: hashToken(raw), CreatedAt: now}
	if ttl > 0 {
		row.ExpiresAt = now.Add(ttl)
	}
	if err := s.st.CreateAPIToken(ctx, row); err != nil {
		return nil, "", fmt.Errorf("create API token: %w", err)
	}
	s.log.Info("API token created", "user", u.Name, "user_id", u.ID, "token_id", row.ID, "token_name", name)
	s.audit.Record(ctx, audit.Entry{Action: "token.create", Target: audit.Target{Kind: "api_token", ID: row.ID, Name: name},
		Details: map[string]any{"user": u.Name}})
	t := tokenFromRow(row)
	t.UserName = u.Name
	return t, raw, nil
}

// Tokens lists a user's tokens, or every user's when userID is empty,
// newest first.
func (s *Service) Tokens(ctx context.Context, userID string) ([]*Token, error) {
	rows, err := s.st.APITokens(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	users, err := s.st.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Name
	}
	out := make([]*Token, len(rows))
	for i, r := range rows {
		out[i] = tokenFromRow(r)
		out[i].UserName = names[r.UserID]
	}
	return out, nil
}

// Token returns the token with the given id, or an error wrapping ErrNotFound.
func (s *Service) Token(ctx context.Context, tokenID string) (*Token, error) {
	row, err := s.st.APIToken(ctx, tokenID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no API token %q: %w", tokenID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read API token: %w", err)
	}
	return tokenFromRow(row), nil
}

// RevokeToken deletes a token; requests carrying it fail from then on.
func (s *Service) RevokeToken(ctx context.Context, tokenID string) error {
	target := audit.Target{Kind: "api_token", ID: tokenID}
	if row, err := s.st.APIToken(ctx, tokenID); err == nil {
		target.Name = row.Name
	}
	err := s.st.DeleteAPIToken(ctx, tokenID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no API token %q: %w", tokenID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke API token: %w", err)
	}
	s.log.Info("API token revoked", "token_id", tokenID)
	s.audit.Record(ctx, audit.Entry{Action: "token.revoke", Target: target})
	return nil
}

// TokenUser returns the user an API token acts for, and records the use
// (at most once a minute). Errors are ErrMalformedToken, ErrUnknownToken
// (also for a disabled user's token) and ErrExpiredToken, or a storage
// failure.
func (s *Service) TokenUser(ctx context.Context, raw string) (*User, *Token, error) {
	body, ok := strings.CutPrefix(raw, TokenPrefix)
	if !ok || !wellFormed(body, apiTokenLen-len(TokenPrefix)) {
		return nil, nil, ErrMalformedToken
	}
	row, err := s.st.APITokenByHash(ctx, hashToken(raw))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnknownToken
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read API token: %w", err)
	}
	now := s.cfg.Now()
	if !row.ExpiresAt.IsZero() && !now.Before(row.ExpiresAt) {
		return nil, nil, ErrExpiredToken
	}
	u, err := s.st.User(ctx, row.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnknownToken
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read token user: %w", err)
	}
	if u.Disabled {
		return nil, nil, ErrUnknownToken
	}
	// Only a stale last-used time is written, waiting at most touchWait.
	if row.LastUsedAt.Before(now.Add(-touchInterval)) && s.touches.due(row.ID, now) {
		s.touch(ctx, "API token use", func(ctx context.Context) error {
			_, err := s.st.TouchAPIToken(ctx, row.ID, now, now.Add(-touchInterval))
			return err
		}, "token_id", row.ID)
	}
	t := tokenFromRow(row)
	t.UserName = u.Name
	return userFromRow(u), t, nil
}
