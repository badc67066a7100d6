package auth

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		params HashParams
		tries  map[string]bool
	}{
		{"test parameters", testHash, map[string]bool{"correct horse battery staple": true, "correct horse battery stapl": false, "": false}},
		// The default costs 64 MiB and three passes: check it once.
		{"default parameters", DefaultHashParams(), map[string]bool{"correct horse battery staple": true}},
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := HashPassword("correct horse battery staple", tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if !phc.MatchString(h) {
				t.Errorf("hash %q is not in PHC format", h)
			}
			if strings.Contains(h, "correct horse") {
				t.Error("hash contains the password")
			}
			for pw, want := range tt.tries {
				ok, err := VerifyPassword(h, pw)
				if err != nil || ok != want {
					t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
				}
			}
			if needsRehash(h, tt.params) {
				t.Error("a fresh hash needs rehashing")
			}
		})
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	a, _ := HashPassword("same password here", testHash)
	b, _ := HashPassword("same password here", testHash)
	if a == b {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyPasswordRefusesBadHashes(t *testing.T) {
	good, _ := HashPassword("some password 1", testHash)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := map[string]string{
		"empty":           "",
		"argon2i":         with(1, "argon2i"),
		"bcrypt":          "$2a$10$abcdefghijklmnopqrstuu5Ks/1cl1MZ4Ta4BNfh8rKVTPXDN7fvi",
		"old version":     with(2, "v=16"),
		"huge memory":     with(3, "m=4194304,t=1,p=1"),
		"many passes":     with(3, "m=64,t=1000,p=1"),
		"zero threads":    with(3, "m=64,t=1,p=0"),
		"memory too low":  with(3, "m=4,t=1,p=1"),
		"short salt":      with(4, "c2FsdA"),
		"bad base64 salt": with(4, "!!!!"),
		"short key":       with(5, "c2hvcnQ"),
		"extra field":     good + "$x",
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			ok, err := VerifyPassword(h, "some password 1")
			if ok || err == nil {
				t.Errorf("VerifyPassword = %v, %v; want false and an error", ok, err)
			}
			if !needsRehash(h, testHash) {
				t.Error("an unreadable hash does not need rehashing")
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		password string
		ok       bool
	}{
		{"short", false},
		{"elevenchars", false},
		{"twelve chars", true},
		{"ünïcödé-pässwörd", true},
		{"Alice.Admin1", false}, // the user name, any case
		{strings.Repeat("x", 1024), true},
		{strings.Repeat("x", 1025), false},
	}
	for _, tt := range tests {
		err := checkPassword(tt.password, "alice.admin1")
		if (err == nil) != tt.ok {
			t.Errorf("checkPassword(%.20q) = %v; want ok=%v", tt.password, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), tt.password) {
			t.Errorf("error %q quotes the password", err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	a, b := GeneratePassword(), GeneratePassword()
	if a == b || len(a) != 26 || checkPassword(a, "admin") != nil {
		t.Errorf("GeneratePassword gave %q and %q", a, b)
	}
}

// BenchmarkHashPasswordDefault shows what one sign-in costs with the
// default parameters.
func BenchmarkHashPasswordDefault(b *testing.B) {
	p := DefaultHashParams()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHashHandsBackItsMemory checks that hashing and verifying leave no
// argon2 working memory (64 MiB) on the heap: an idle server that has just
// signed someone in must not stay at twice its size until the next
// collection. Not parallel, so that no other test allocates meanwhile.
func TestHashHandsBackItsMemory(t *testing.T) {
	p := DefaultHashParams()
	limit := uint64(p.Memory) * 1024 / 2
	check := func(what string) {
		t.Helper()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapAlloc > limit {
			t.Errorf("%s left %d MiB on the heap; argon2 works in %d MiB, which should be handed back", what, m.HeapAlloc>>20, p.Memory>>10)
		}
	}
	h, err := HashPassword("correct horse battery staple", p)
	if err != nil {
		t.Fatal(err)
	}
	check("HashPassword")
	if ok, err := VerifyPassword(h, "correct horse battery staple"); err != nil || !ok {
		t.Fatalf("VerifyPassword = %v, %v; want true", ok, err)
	}
	check("VerifyPassword")
}
