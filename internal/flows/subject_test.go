package flows

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// subjectOfJSON is how the subject was read before a start had the input
// as a value: the sealed JSON decoded into a struct of the fields it
// reads. subjectOf must agree with it on every value.
func subjectOfJSON(input []byte) Subject {
	type event struct {
		ID             string `json:"id"`
		Title          string `json:"title"`
		AffectedEntity struct {
			DisplayName         string `json:"displayName"`
			IdentifierInService string `json:"identifierInService"`
		} `json:"affectedEntity"`
	}
	var in struct {
		EventData *event `json:"eventData"`
		Body      struct {
			EventData *event `json:"eventData"`
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

func TestSubjectOfReadsAsTheJSONDid(t *testing.T) {
	long := strings.Repeat("é", 150)
	inputs := []string{
		`null`, `1`, `"text"`, `[]`, `{}`, `{"other":1}`,
		`{"eventData":{"id":"iss_1","title":"Unused Admin Account","affectedEntity":{"displayName":"Ann Lee","identifierInService":"ann@example.com"}}}`,
		`{"body":{"eventData":{"id":"iss_2","title":"No MFA - Account","affectedEntity":{"displayName":"Bo","identifierInService":"Bo"}}},"headers":{}}`,
		`{"eventData":{"id":"top"},"body":{"eventData":{"id":"body"}}}`,
		`{"eventData":null,"body":{"eventData":{"id":"body"}}}`,
		`{"EventData":{"id":"upper"},"eventdata":{"title":"lower"},"eventData":{"ID":"exact"}}`,
		`{"EVENTDATA":{"TITLE":"t","Id":"i","AFFECTEDENTITY":{"DISPLAYNAME":" D ","identifierinservice":"l"}}}`,
		`{"eventData":{"id":"a"},"eventdata":null}`,
		`{"eventData":{"id":1}}`,
		`{"eventData":{"title":true}}`,
		`{"eventData":"text"}`,
		`{"eventData":[]}`,
		`{"eventData":{"affectedEntity":"x"}}`,
		`{"eventData":{"affectedEntity":null,"id":"n"}}`,
		`{"eventData":{"affectedEntity":{"displayName":5}}}`,
		`{"eventData":{"id":null,"title":"t"}}`,
		`{"body":"text","eventData":{"id":"top"}}`,
		`{"body":null,"eventData":{"id":"top"}}`,
		`{"body":[1],"eventData":{"id":"top"}}`,
		`{"Body":{"eventData":{"id":"folded body"}}}`,
		`{"body":{"eventData":{"id":2}},"eventData":{"id":"top"}}`,
		`{"eventData":{"id":"  spaced  ","title":"` + long + `"}}`,
		`{"eventData":{"affectedEntity":{"identifierInService":"only@login"}}}`,
		`{"eventData":{"affectedEntity":{"displayName":"same","identifierInService":"same"}}}`,
		`{"eventData":{"ıd":"dotless i does not fold to i","title":"x"}}`,
		`{"eventData":{"id":"big","n":123456789012345678901234567890}}`,
	}
	for _, in := range inputs {
		v, err := engine.DecodeJSON([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		// The sealed JSON is json.Marshal's: keys sorted, none twice.
		sealed, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want := subjectOfJSON(sealed)
		if got := subjectOf(v); got != want {
			t.Errorf("%s: subjectOf = %+v; the JSON gave %+v", in, got, want)
		}
	}
	// The table reaches each outcome.
	if got := subjectOf(map[string]any{"eventData": map[string]any{"id": 1}}); got != (Subject{}) {
		t.Errorf("a number id gave %+v; want no subject", got)
	}
	want := Subject{IssueID: "i", Title: "t", User: "D  l"}
	v, _ := engine.DecodeJSON([]byte(inputs[11]))
	if got := subjectOf(v); got != want {
		t.Errorf("folded keys gave %+v; want %+v", got, want)
	}
}
