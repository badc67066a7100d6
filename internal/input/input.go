// Package input holds the errors a service returns for input a person
// typed that it cannot use, so that the API and the console answer them
// the same way whichever service refused: the message is one sentence
// meant for that person, shown as it is.
package input

import "strings"

// InvalidError is a rejected value. Field names the input at fault (a
// form field or a JSON property); Message says what is wrong and never
// quotes a secret.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Message }

// ConflictError is a name already taken.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return e.Message }

// HeaderName reports whether name is an HTTP header name (an RFC 9110
// token): one a person types for a header a request carries or is checked
// for, which must also be safe to show inside a shell example.
func HeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
