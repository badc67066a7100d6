// Package input holds the errors a service returns for input a person
// typed that it cannot use, so that the API and the console answer them
// the same way whichever service refused: the message is one sentence
// meant for that person, shown as it is.
package input

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
