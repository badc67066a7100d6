package console

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzCleanPath checks the sign-in redirect target against any input: the
// result is the fallback or a path on this site, holds no backslash or
// control character, does not start with // and is stable under a second
// cleaning.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{
		"/ispm/issues?status=all", "/ispm/../%5Cevil.example", "/\t/evil.example", "//evil.example", "/%2F%2Fevil",
		"https://evil.example/", "/ispm/%2e%2e/%5c%5cevil", "/a?b=/\\c", "/\u2028/evil", "/%E2%80%A8x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := cleanPath(in, "/home")
		if out == "/home" {
			return
		}
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") {
			t.Fatalf("cleanPath(%q) = %q: not a path on this site", in, out)
		}
		if strings.ContainsFunc(out, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
			t.Fatalf("cleanPath(%q) = %q: holds a backslash or a control character", in, out)
		}
		if again := cleanPath(out, "/home"); again != out {
			t.Fatalf("cleanPath(%q) = %q, but cleaning that gives %q", in, out, again)
		}
	})
}
