package flows

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/vigil-ispm/vigil/internal/store"
)

// Subject is what an execution is about: the issue id and title and the
// affected user of its trigger event.
type Subject = store.Subject

// subjectMax bounds each subject field, so a large event cannot grow the
// history's rows.
const subjectMax = 200

// subjectOf reads the subject from an execution's input, as JSON: an issue
// event (eventData.id, .title, .affectedEntity) either at the top level, as
// a helper flow or a test run gets it, or as the body of an API Endpoint
// request. Any other input has no subject.
func subjectOf(input []byte) Subject {
	var in struct {
		EventData *eventData `json:"eventData"`
		Body      struct {
			EventData *eventData `json:"eventData"`
		} `json:"body"`
	}
	if json.Unmarshal(input, &in) != nil {
		return Subject{}
	}
	ev := in.EventData
	if ev == nil {
		ev = in.Body.EventData
	}
	if ev == nil {
		return Subject{}
	}
	user := ev.AffectedEntity.DisplayName
	if login := ev.AffectedEntity.IdentifierInService; login != "" && login != user {
		user = strings.TrimSpace(user + " " + login)
	}
	return Subject{IssueID: clip(ev.ID), Title: clip(ev.Title), User: clip(user)}
}

// eventData is the part of an issue event the subject reads. Fields of
// another JSON type leave the subject empty rather than fail the start.
type eventData struct {
	ID             string `json:"id"`
	Title          string `json:"title"`
	AffectedEntity struct {
		DisplayName         string `json:"displayName"`
		IdentifierInService string `json:"identifierInService"`
	} `json:"affectedEntity"`
}

// clip trims s to subjectMax bytes on a character boundary.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= subjectMax {
		return s
	}
	s = s[:subjectMax]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
