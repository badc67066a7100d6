package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// validName allows logins and e-mail addresses (single sign-on may use
// those later), nothing that needs quoting in a URL, a log line or a shell.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]{0,63}$`)

func checkName(name string) error {
	if !validName.MatchString(name) {
		return invalid("name", "The user name must be 1 to 64 letters, digits or . _ @ + -, starting with a letter or digit.")
	}
	return nil
}

// CreateUser adds a local user who signs in with password. The name is
// stored in lower case; a taken name gives a *ConflictError.
func (s *Service) CreateUser(ctx context.Context, name string, role Role, password string) (*User, error) {
	name = normalizeName(name)
	if err := checkName(name); err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, invalid("role", "The role must be super_admin, workflows_admin, issue_responder or issue_viewer.")
	}
	if err := checkPassword(password, name); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	row := &store.User{ID: id.NewAt("usr", now), Name: name, Role: string(role), PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateUser(ctx, row); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &ConflictError{Message: fmt.Sprintf("A user named %q already exists.", name)}
		}
		return nil, fmt.Errorf("create user %s: %w", name, err)
	}
	s.log.Info("user created", "user", name, "user_id", row.ID, "role", string(role))
	s.audit.Record(ctx, audit.Entry{Action: "user.create", Target: userTarget(row.ID, name),
		Details: map[string]any{"role": string(role)}})
	return userFromRow(row), nil
}

// hash computes a password hash, waiting for a free slot.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return "", err
	}
	defer s.releaseHashSlot()
	return HashPassword(password, s.cfg.Hash)
}

func (s *Service) acquireHashSlot(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) releaseHashSlot() { <-s.hashSlots }

// Users lists every user by name.
func (s *Service) Users(ctx context.Context) ([]*User, error) {
	rows, err := s.st.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]*User, len(rows))
	for i, r := range rows {
		out[i] = userFromRow(r)
	}
	return out, nil
}

// User returns the user with the given id, or an error wrapping ErrNotFound.
func (s *Service) User(ctx context.Context, userID string) (*User, error) {
	return s.oneUser(ctx, userID, s.st.User)
}

// UserByName returns the user with the given name (any case), or an error
// wrapping ErrNotFound.
func (s *Service) UserByName(ctx context.Context, name string) (*User, error) {
	return s.oneUser(ctx, normalizeName(name), s.st.UserByName)
}

func (s *Service) oneUser(ctx context.Context, key string, get func(context.Context, string) (*store.User, error)) (*User, error) {
	row, err := get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no user %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return userFromRow(row), nil
}

// userTx reads a user in tx, wrapping ErrNotFound with the id.
func userTx(ctx context.Context, tx *store.Tx, userID string) (*store.User, error) {
	row, err := tx.User(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no user %q: %w", userID, ErrNotFound)
	}
	return row, err
}

// UserUpdate lists the changes to make to a user; nil fields stay as they are.
type UserUpdate struct {
	Role     *Role   `json:"role,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
	Password *string `json:"password,omitempty"`
}

// UpdateUser changes a user's role, enabled state or password. A new
// password or disabling the account signs the user out everywhere. The last
// enabled super_admin cannot be demoted or disabled, so that someone can
// always manage users.
func (s *Service) UpdateUser(ctx context.Context, userID string, up UserUpdate) (*User, error) {
	var hash string
	if up.Password != nil {
		cur, err := s.User(ctx, userID)
		if err != nil {
			return nil, err
		}
		if err := checkPassword(*up.Password, cur.Name); err != nil {
			return nil, err
		}
		if hash, err = s.hash(ctx, *up.Password); err != nil {
			return nil, err
		}
	}
	if up.Role != nil {
		if _, err := ParseRole(string(*up.Role)); err != nil {
			return nil, invalid("role", "The role must be super_admin, workflows_admin, issue_responder or issue_viewer.")
		}
	}
	var out *User
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := userTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		wasAdmin := row.Role == string(RoleSuperAdmin) && !row.Disabled
		if up.Role != nil {
			row.Role = string(*up.Role)
		}
		if up.Disabled != nil {
			row.Disabled = *up.Disabled
		}
		if hash != "" {
			row.PasswordHash = hash
		}
		if wasAdmin && (row.Role != string(RoleSuperAdmin) || row.Disabled) {
			n, err := tx.CountActiveUsersWithRole(ctx, string(RoleSuperAdmin))
			if err != nil {
				return err
			}
			if n <= 1 {
				return invalid("role", "This is the last enabled super_admin; make another user super_admin first.")
			}
		}
		row.UpdatedAt = s.cfg.Now()
		if err := tx.UpdateUser(ctx, row); err != nil {
			return err
		}
		if hash != "" || row.Disabled {
			if _, err := tx.DeleteUserSessions(ctx, row.ID); err != nil {
				return err
			}
		}
		out = userFromRow(row)
		return nil
	})
	if err != nil {
		var inv *InvalidError
		if errors.As(err, &inv) || errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("update user: %w", err)
	}
	s.log.Info("user updated", "user", out.Name, "user_id", out.ID, "role", string(out.Role), "disabled", out.Disabled,
		"password_changed", hash != "")
	details := map[string]any{}
	if up.Role != nil {
		details["role"] = string(out.Role)
	}
	if up.Disabled != nil {
		details["disabled"] = out.Disabled
	}
	if hash != "" {
		details["changed"] = []string{"password"}
	}
	action := "user.update"
	if ctxPasswordChange(ctx) {
		action = "user.password.change"
	}
	s.audit.Record(ctx, audit.Entry{Action: action, Target: userTarget(out.ID, out.Name), Details: details})
	return out, nil
}

// ChangePassword lets a user replace their own password. The current
// password is checked like a sign-in (same limits, same error), so a
// borrowed session cannot be turned into a stolen account. All of the
// user's sessions end; the caller starts a new one.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, clientIP string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	if err := checkPassword(next, u.Name); err != nil {
		return err
	}
	if _, err := s.Login(ctx, u.Name, current, clientIP); err != nil {
		return err
	}
	_, err = s.UpdateUser(context.WithValue(ctx, ownPasswordKey{}, true), userID, UserUpdate{Password: &next})
	return err
}

// ownPasswordKey marks an UpdateUser that is a user changing their own
// password, so that the audit log tells it from an administrator's reset.
type ownPasswordKey struct{}

func ctxPasswordChange(ctx context.Context) bool {
	b, _ := ctx.Value(ownPasswordKey{}).(bool)
	return b
}

// BootstrapName is the user Bootstrap creates.
const BootstrapName = "admin"

// Bootstrap makes the first account on a server that has none: a
// super_admin named "admin" with a random password, which it returns so that
// the server can show it once. When users already exist (or another node
// made the account first) it does nothing and returns "".
func (s *Service) Bootstrap(ctx context.Context) (password string, err error) {
	n, err := s.st.CountUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	password = GeneratePassword()
	if _, err := s.CreateUser(ctx, BootstrapName, RoleSuperAdmin, password); err != nil {
		var conflict *ConflictError
		if errors.As(err, &conflict) {
			return "", nil
		}
		return "", fmt.Errorf("create the first administrator: %w", err)
	}
	return password, nil
}
