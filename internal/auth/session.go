package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"

	"github.com/vigil-ispm/vigil/internal/audit"
)

// SessionCookie is the name of the cookie that carries a session token.
const SessionCookie = "vigil_session"

// sessionTokenLen is the length of id.Token(32): 256 random bits in base32.
const sessionTokenLen = 52

// errNoSession means the cookie names no live session; callers treat the
// request as anonymous.
var errNoSession = errors.New("no session")

// hashToken is what the database keeps of a session or API token. The
// tokens carry 256 random bits, so a fast hash is enough: there is nothing
// to brute-force.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether s has length n and only the characters of
// id.Token, so that junk never reaches the database.
func wellFormed(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// StartSession signs u in: it stores a new session and returns its token
// (for the cookie) and the time the session ends at the latest.
func (s *Service) StartSession(ctx context.Context, u *User) (token string, endsAt time.Time, err error) {
	now := s.cfg.Now()
	token = id.Token(32)
	row := &store.Session{TokenHash: hashToken(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionIdle)}
	if err := s.st.CreateSession(ctx, row); err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	return token, now.Add(s.cfg.SessionMax), nil
}

// SessionUser returns the user a session token belongs to and slides the
// session's idle expiry forward (writing at most once a minute, and
// giving up on the write when the database writer is busy). It returns
// an error when the session is unknown, idle too long, past its absolute
// end, or its user is disabled.
func (s *Service) SessionUser(ctx context.Context, token string) (*User, error) {
	if !wellFormed(token, sessionTokenLen) {
		return nil, errNoSession
	}
	h := hashToken(token)
	sess, err := s.st.Session(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	now := s.cfg.Now()
	end := sess.CreatedAt.Add(s.cfg.SessionMax)
	if !now.Before(sess.ExpiresAt) || !now.Before(end) {
		if err := s.st.DeleteSession(ctx, h); err != nil {
			return nil, fmt.Errorf("delete expired session: %w", err)
		}
		return nil, errNoSession
	}
	row, err := s.st.User(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session user: %w", err)
	}
	if row.Disabled {
		return nil, errNoSession
	}
	next := now.Add(s.cfg.SessionIdle)
	if next.After(end) {
		next = end
	}
	// The slide waits at most touchWait, as a token's use does: a
	// console page must not wait for, or fail with, a scan's long write.
	if next.Sub(sess.ExpiresAt) >= time.Minute && s.touches.due(h, now) {
		s.touch(ctx, "session activity", func(ctx context.Context) error {
			return s.st.ExtendSession(ctx, h, next)
		}, "user_id", sess.UserID)
	}
	return userFromRow(row), nil
}

// EndSession deletes the session of token; an unknown token is not an error.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if !wellFormed(token, sessionTokenLen) {
		return nil
	}
	if err := s.st.DeleteSession(ctx, hashToken(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SignIn checks a name and password from a request (rate limited by the
// client's address), ends any session the request already carries, starts
// a new one and sets its cookie. A fresh token at every sign-in means a
// token planted before sign-in is worthless after it.
func (s *Service) SignIn(w http.ResponseWriter, r *http.Request, name, password string) (*User, error) {
	u, err := s.Login(r.Context(), name, password, s.cfg.ClientIP(r))
	if err != nil {
		return nil, err
	}
	if err := s.replaceSession(w, r, u); err != nil {
		return nil, err
	}
	return u, nil
}

// replaceSession ends the session the request carries, if any, starts one
// for u and sets its cookie: the last step of every way of signing in.
func (s *Service) replaceSession(w http.ResponseWriter, r *http.Request, u *User) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := s.EndSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	token, end, err := s.StartSession(r.Context(), u)
	if err != nil {
		return err
	}
	s.SetSessionCookie(w, r, token, end)
	return nil
}

// SignOut ends the request's session, if any, and clears its cookie.
func (s *Service) SignOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := s.EndSession(r.Context(), c.Value); err != nil {
			return err
		}
		if u, ok := UserFrom(r.Context()); ok {
			s.audit.Record(r.Context(), audit.Entry{Action: "auth.signout", Target: userTarget(u.ID, u.Name)})
		}
	}
	http.SetCookie(w, s.cookie(r, "", -1, time.Time{}))
	return nil
}

// SetSessionCookie sets the session cookie: HttpOnly (scripts cannot read
// it), SameSite=Lax (not sent on cross-site subrequests or POSTs), Secure
// when the request came over TLS or the public URL is https, and kept by
// the browser until the session's absolute end; the server enforces the
// idle timeout.
func (s *Service) SetSessionCookie(w http.ResponseWriter, r *http.Request, token string, endsAt time.Time) {
	maxAge := int(endsAt.Sub(s.cfg.Now()).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, s.cookie(r, token, maxAge, endsAt))
}

func (s *Service) cookie(r *http.Request, value string, maxAge int, expires time.Time) *http.Cookie {
	// Secure whenever the site is served over HTTPS; a plain-HTTP local
	// install could not send the cookie back otherwise.
	return &http.Cookie{ //nolint:gosec // G124: Secure is set as above, HttpOnly and SameSite always
		Name:     SessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Expires:  expires,
		HttpOnly: true,
		Secure:   SecureCookie(r, s.cfg.PublicURL),
		SameSite: http.SameSiteLaxMode,
	}
}

// SecureCookie says whether a cookie set in answer to r is marked Secure:
// when r came over TLS, and also when the public URL is https, which is how
// a server behind a TLS-terminating proxy knows browsers reach it over TLS.
// A plain-HTTP local install keeps its cookies usable.
func SecureCookie(r *http.Request, publicURL string) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(publicURL), "https://")
}
