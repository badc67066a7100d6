package id

import (
	"strings"
	"testing"
	"time"
)

func TestNewSortsByTime(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	a := NewAt("iss", t0)
	b := NewAt("iss", t0.Add(time.Millisecond))
	if !strings.HasPrefix(a, "iss_") || len(a) != len("iss_")+26 {
		t.Fatalf("bad id %q", a)
	}
	if a >= b {
		t.Fatalf("ids do not sort by time: %q >= %q", a, b)
	}
	if NewAt("iss", t0) == a {
		t.Fatal("two ids at the same millisecond are equal")
	}
}

func TestToken(t *testing.T) {
	tok := Token(32)
	if len(tok) != 52 {
		t.Fatalf("token length %d, want 52 (256 bits)", len(tok))
	}
	if strings.ToLower(tok) != tok {
		t.Fatalf("token %q is not lower case", tok)
	}
	if Token(32) == tok {
		t.Fatal("two tokens are equal")
	}
}
