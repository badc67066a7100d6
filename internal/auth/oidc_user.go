package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// externalUser finds the local user linked to ident's provider account, or
// else the one named ident.Name, which it links; or it creates the user,
// linked and with no password (so that only the provider can sign it in,
// see Login). It gives the user role, and returns the role the user had
// before (equal to role when nothing changed) and whether it was created.
//
// The link (issuer and subject) is what identifies a person afterwards, not
// the e-mail address: a provider may let an address move to someone else,
// so a name already linked to another subject is refused rather than
// signed in. A disabled user, and a demotion of the last enabled
// super_admin, are refused too, each with an *oidcRefusal.
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

// linkedUser returns the user linked to ident, or else the user named
// ident.Name if it is linked to no one, with whether it must be linked
// now; ErrNotFound when there is neither; an *oidcRefusal when the name
// belongs to another provider account.
func linkedUser(ctx context.Context, q *store.Queries, ident ExternalIdentity) (row *store.User, link bool, err error) {
	row, err = q.UserByExternalSubject(ctx, ident.key())
	if !errors.Is(err, store.ErrNotFound) {
		return row, false, err
	}
	row, err = q.UserByName(ctx, ident.Name)
	if err != nil {
		return nil, false, err
	}
	if row.ExternalSubject != "" {
		return nil, false, refuse(http.StatusForbidden, msgOtherAccount, "the user is linked to another identity provider account")
	}
	return row, true, nil
}

func (s *Service) externalUserOnce(ctx context.Context, ident ExternalIdentity, role Role) (u *User, prev Role, created bool, err error) {
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		now := s.cfg.Now()
		row, link, err := linkedUser(ctx, tx.Queries, ident)
		if errors.Is(err, store.ErrNotFound) {
			row = &store.User{ID: id.NewAt("usr", now), Name: ident.Name, Role: string(role), CreatedAt: now, UpdatedAt: now,
				ExternalSubject: ident.key()}
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
		if link {
			row.ExternalSubject = ident.key()
			s.log.Info("user linked to an identity provider account", "user", row.Name, "user_id", row.ID, "subject", ident.Subject)
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
		}
		if link || prev != role {
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

// endSessionsOf signs the user of ident out everywhere, if there is one:
// the user linked to it, or one of its name linked to no one.
func (s *Service) endSessionsOf(ctx context.Context, ident ExternalIdentity) error {
	row, _, err := linkedUser(ctx, s.st.Queries, ident)
	var ref *oidcRefusal
	if errors.Is(err, store.ErrNotFound) || errors.As(err, &ref) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read user %s: %w", ident.Name, err)
	}
	n, err := s.st.DeleteUserSessions(ctx, row.ID)
	if err != nil {
		return fmt.Errorf("end the sessions of %s: %w", row.Name, err)
	}
	if n > 0 {
		s.log.Info("sessions ended: the identity provider no longer grants a role", "user", row.Name, "user_id", row.ID, "sessions", n)
	}
	return nil
}

// UnlinkExternal removes the link between a user and an identity-provider
// account, so that the next single sign-on under the user's name links the
// account signing in: after the provider was replaced, or when the name
// must go to another account there. The user is signed out everywhere. It
// reports whether there was a link; ErrNotFound when there is no such user.
func (s *Service) UnlinkExternal(ctx context.Context, userID string) (bool, error) {
	var was bool
	var name string
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := userTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		name, was = row.Name, row.ExternalSubject != ""
		if !was {
			return nil
		}
		row.ExternalSubject, row.UpdatedAt = "", s.cfg.Now()
		if err := tx.UpdateUser(ctx, row); err != nil {
			return err
		}
		_, err = tx.DeleteUserSessions(ctx, row.ID)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return false, err
		}
		return false, fmt.Errorf("unlink user %s: %w", userID, err)
	}
	if was {
		s.log.Info("user unlinked from its identity provider account", "user", name, "user_id", userID)
	}
	return was, nil
}
