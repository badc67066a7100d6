package flows

import (
	"slices"
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

// subjectOf reads the subject from an execution's input, the value read
// back from the JSON sealed for it: an issue event (eventData.id, .title,
// .affectedEntity) either at the top level, as a helper flow or a test
// run gets it, or as the body of an API Endpoint request. Any other input
// has no subject.
//
// It reads the value as encoding/json would read the JSON into a struct
// of those fields, which is how it was read before the start had the
// value: keys match case-insensitively, in the JSON's (sorted) order, a
// later object merging into an earlier one; null leaves a field as it is,
// except that it drops an eventData; and a field of another JSON type
// leaves the whole subject empty rather than fail the start.
func subjectOf(input any) Subject {
	top, ok := input.(map[string]any)
	if !ok {
		return Subject{}
	}
	var ev, bodyEv *eventData
	for _, k := range foldKeys(top, "eventData") {
		if !readEvent(&ev, top[k]) {
			return Subject{}
		}
	}
	for _, k := range foldKeys(top, "body") {
		switch body := top[k].(type) {
		case nil:
		case map[string]any:
			for _, k := range foldKeys(body, "eventData") {
				if !readEvent(&bodyEv, body[k]) {
					return Subject{}
				}
			}
		default:
			return Subject{}
		}
	}
	if ev == nil {
		ev = bodyEv
	}
	if ev == nil {
		return Subject{}
	}
	user := ev.displayName
	if login := ev.identifierInService; login != "" && login != user {
		user = strings.TrimSpace(user + " " + login)
	}
	return Subject{IssueID: clip(ev.id), Title: clip(ev.title), User: clip(user)}
}

// eventData is the part of an issue event the subject reads.
type eventData struct {
	id, title, displayName, identifierInService string
}

// readEvent reads v into *p as encoding/json reads a JSON value into a
// *eventData field; it reports false for a value of another type.
func readEvent(p **eventData, v any) bool {
	switch v := v.(type) {
	case nil:
		*p = nil
		return true
	case map[string]any:
		if *p == nil {
			*p = &eventData{}
		}
		ev := *p
		ok := readString(&ev.id, v, "id") && readString(&ev.title, v, "title")
		for _, k := range foldKeys(v, "affectedEntity") {
			switch entity := v[k].(type) {
			case nil:
			case map[string]any:
				ok = ok && readString(&ev.displayName, entity, "displayName") &&
					readString(&ev.identifierInService, entity, "identifierInService")
			default:
				return false
			}
		}
		return ok
	}
	return false
}

// readString reads the string field name of m into *dst, as encoding/json
// reads it into a string field; it reports false for a value of another
// type.
func readString(dst *string, m map[string]any, name string) bool {
	for _, k := range foldKeys(m, name) {
		switch v := m[k].(type) {
		case nil:
		case string:
			*dst = v
		default:
			return false
		}
	}
	return true
}

// foldKeys returns the keys of m equal to name under case folding, in
// the order of the JSON the value was read from (sorted). There is
// usually one or none.
func foldKeys(m map[string]any, name string) []string {
	var keys []string
	for k := range m {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	if len(keys) > 1 {
		slices.Sort(keys)
	}
	return keys
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
