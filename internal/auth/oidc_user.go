package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// externalUser finds the local user named ident.Name, or creates it with no
// password (so that only the provider can sign it in, see Login), and gives
// it role. It returns the role the user had before (equal to role when
// nothing changed) and whether it was created. A disabled user, and a
// demotion of the last enabled super_admin, are refused with an *oidcRefusal.
func (s *Service) externalUser(ctx context.Context, ident ExternalIdentity, role Role) (u *User, prev Role, created bool, err error) {
	// Two first sign-ins of one person may race to create the user; the
	// loser finds the winner's row on its second try.
	for attempt := 0; ; attempt++ {
		u, prev, created, err = s.externalUserOnce(ctx, ident, role)
		if errors.Is(err, store.ErrConflict) && attempt == 0 {
			continue
		}
		if err != nil {
			var ref *oidcRefusal
			if !errors.As(err, &ref) {
				err = fmt.Errorf("find or create the user %s: %w", ident.Name, err)
			}
		}
		return u, prev, created, err
	}
}

func (s *Service) externalUserOnce(ctx context.Context, ident ExternalIdentity, role Role) (u *User, prev Role, created bool, err error) {
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		now := s.cfg.Now()
		row, err := tx.UserByName(ctx, ident.Name)
		if errors.Is(err, store.ErrNotFound) {
			row = &store.User{ID: id.NewAt("usr", now), Name: ident.Name, Role: string(role), CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateUser(ctx, row); err != nil {
				return err
			}
			u, prev, created = userFromRow(row), role, true
			return nil
		}
		if err != nil {
			return err
		}
		prev = Role(row.Role)
		if row.Disabled {
			return refuse(http.StatusForbidden, msgDisabled, "the user is disabled in Vigil")
		}
		if prev != role {
			if prev == RoleSuperAdmin {
				n, err := tx.CountActiveUsersWithRole(ctx, string(RoleSuperAdmin))
				if err != nil {
					return err
				}
				if n <= 1 {
					return refuse(http.StatusForbidden, msgLastAdmin, "the groups would demote the last enabled super_admin to "+string(role))
				}
			}
			row.Role = string(role)
			row.UpdatedAt = now
			if err := tx.UpdateUser(ctx, row); err != nil {
				return err
			}
		}
		u = userFromRow(row)
		return nil
	})
	return u, prev, created, err
}

// endSessionsOf signs the user named name out everywhere, if there is one.
func (s *Service) endSessionsOf(ctx context.Context, name string) error {
	row, err := s.st.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read user %s: %w", name, err)
	}
	n, err := s.st.DeleteUserSessions(ctx, row.ID)
	if err != nil {
		return fmt.Errorf("end the sessions of %s: %w", name, err)
	}
	if n > 0 {
		s.log.Info("sessions ended: the identity provider no longer grants a role", "user", row.Name, "user_id", row.ID, "sessions", n)
	}
	return nil
}
