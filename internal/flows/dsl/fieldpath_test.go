package dsl

import (
	"slices"
	"testing"
)

func TestFieldPath(t *testing.T) {
	for src, want := range map[string][]string{
		".a":                    {"a"},
		".body.eventData.title": {"body", "eventData", "title"},
		"._x.B9":                {"_x", "B9"},
		".":                     nil,
		"":                      nil,
		".a[0]":                 nil,
		".a?":                   nil,
		".a.b?":                 nil,
		`."a"`:                  nil,
		".a | .b":               nil,
		". a":                   nil,
		".a .b":                 nil,
		".9a":                   nil,
		"$input.a":              nil,
		".a.b // \"default\"":   nil,
		".a-b":                  nil,
		".é":                    nil,
		".severity == \"HIGH\"": nil,
		"..a":                   nil,
	} {
		if got := fieldPath(src); !slices.Equal(got, want) {
			t.Errorf("fieldPath(%q) = %q; want %q", src, got, want)
		}
	}
}
