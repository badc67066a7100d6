package auth

import (
	"errors"
	"net/http"
)

// ChangeOwnPassword changes the password of the request's signed-in user
// (see ChangePassword: the current password is checked like a sign-in and
// every session ends) and signs this browser in again with the new one, so
// that the person who changed it stays signed in and everyone else holding
// one of their sessions is out.
func (s *Service) ChangeOwnPassword(w http.ResponseWriter, r *http.Request, current, next string) error {
	u, ok := UserFrom(r.Context())
	if !ok {
		return errors.New("no user is signed in")
	}
	if err := s.ChangePassword(r.Context(), u.ID, current, next, s.cfg.ClientIP(r)); err != nil {
		return err
	}
	_, err := s.SignIn(w, r, u.Name, next)
	return err
}
