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
	return ev.subject()
}

// subject is the subject of the issue event ev, or none when ev is nil.
func (ev *eventData) subject() Subject {
	if ev == nil {
		return Subject{}
	}
	user := ev.AffectedEntity.DisplayName
	if login := ev.AffectedEntity.IdentifierInService; login != "" && login != user {
		user = strings.TrimSpace(user + " " + login)
	}
	return Subject{IssueID: clip(ev.ID), Title: clip(ev.Title), User: clip(user)}
}

// subjectOfValue is subjectOf for the input's value rather than its JSON,
// so that a start does not parse the input it just encoded. It reads the
// value as json.Unmarshal reads the JSON into subjectOf's fields: a field
// of another type leaves the subject empty. sure is false when the value
// has what it does not reproduce exactly (a key that differs from a
// field's name only in case, which json.Unmarshal also matches, or a
// string that is not UTF-8); the caller then reads the JSON instead.
func subjectOfValue(input any) (sub Subject, sure bool) {
	top, isObject := input.(map[string]any)
	if !isObject {
		// null sets nothing; any other JSON type fails to unmarshal.
		return Subject{}, true
	}
	if !plainKeys(top, "eventData", "body") {
		return Subject{}, false
	}
	ev, ok, sure := eventOfValue(top["eventData"])
	if !sure || !ok {
		return Subject{}, sure
	}
	var inBody *eventData
	switch body := top["body"].(type) {
	case nil:
	case map[string]any:
		if !plainKeys(body, "eventData") {
			return Subject{}, false
		}
		if inBody, ok, sure = eventOfValue(body["eventData"]); !sure || !ok {
			return Subject{}, sure
		}
	default:
		return Subject{}, true
	}
	if ev == nil {
		ev = inBody
	}
	return ev.subject(), true
}

// eventOfValue reads an issue event from v as json.Unmarshal reads it into
// an *eventData: ok is false where that fails on a field's type, and sure
// as for subjectOfValue.
func eventOfValue(v any) (ev *eventData, ok, sure bool) {
	if v == nil {
		return nil, true, true
	}
	m, isObject := v.(map[string]any)
	if !isObject {
		return nil, false, true
	}
	if !plainKeys(m, "id", "title", "affectedEntity") {
		return nil, false, false
	}
	ev = &eventData{}
	for _, f := range []struct {
		dst  *string
		name string
	}{{&ev.ID, "id"}, {&ev.Title, "title"}} {
		if *f.dst, ok, sure = stringOfValue(m[f.name]); !ok || !sure {
			return nil, ok, sure
		}
	}
	switch entity := m["affectedEntity"].(type) {
	case nil:
	case map[string]any:
		if !plainKeys(entity, "displayName", "identifierInService") {
			return nil, false, false
		}
		a := &ev.AffectedEntity
		if a.DisplayName, ok, sure = stringOfValue(entity["displayName"]); !ok || !sure {
			return nil, ok, sure
		}
		if a.IdentifierInService, ok, sure = stringOfValue(entity["identifierInService"]); !ok || !sure {
			return nil, ok, sure
		}
	default:
		return nil, false, true
	}
	return ev, true, true
}

// stringOfValue reads v as json.Unmarshal reads it into a string field.
func stringOfValue(v any) (s string, ok, sure bool) {
	switch v := v.(type) {
	case nil:
		return "", true, true
	case string:
		return v, true, utf8.ValidString(v)
	}
	return "", false, true
}

// plainKeys tells whether every key of m that matches one of names
// ignoring case, as encoding/json matches keys to fields, matches it
// exactly.
func plainKeys(m map[string]any, names ...string) bool {
	for k := range m {
		for _, name := range names {
			if k != name && strings.EqualFold(k, name) {
				return false
			}
		}
	}
	return true
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
