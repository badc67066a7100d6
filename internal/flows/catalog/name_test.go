package catalog

import "testing"

// TestCheckName covers the names people may give tables, columns and
// folders; a NUL in particular would be stored by SQLite and refused by
// PostgreSQL.
func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"Watch List", true}, {"Équipe · 2", true}, {"", false}, {"  ", false}, {`a"b`, false}, {"a\nb", false},
		{"a\x00b", false}, {"a\x1bb", false}, {"a\u0085b", false}, {"a\xffb", false},
	} {
		if err := CheckName(tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckName(%q): %v; want ok %v", tc.name, err, tc.ok)
		}
	}
}
