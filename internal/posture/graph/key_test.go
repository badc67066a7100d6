package graph

import "testing"

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"ali.lesch@example.com", "ali.lesch@example.com"},
		{"  Ali.Lesch@Example.COM ", "ali.lesch@example.com"},
		{"ali.lesch+gw@example.com", "ali.lesch@example.com"},
		{"ali+a+b@example.com", "ali@example.com"},
		{"+tag@example.com", ""},
		{"ali.lesch", ""},
		{"@example.com", ""},
		{"ali@", ""},
		{"", ""},
		{"weird@name@example.com", "weird@name@example.com"},
	}
	for _, tt := range tests {
		if got := NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJoinKeys(t *testing.T) {
	tests := []struct {
		name         string
		a            Account
		first, other string
	}{
		{"email and same login", Account{Email: "A@x.io", Login: "a@x.io"}, "a@x.io", ""},
		{"email and other login", Account{Email: "a@x.io", Login: "b@y.io"}, "a@x.io", "b@y.io"},
		{"login only", Account{Login: "B@y.io"}, "b@y.io", ""},
		{"no address", Account{Login: "bob"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, o := joinKeys(&tt.a)
			if f != tt.first || o != tt.other {
				t.Errorf("joinKeys = %q, %q; want %q, %q", f, o, tt.first, tt.other)
			}
		})
	}
}
