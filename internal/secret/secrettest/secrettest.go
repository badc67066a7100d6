// Package secrettest gives tests a sealing box with a fresh random master
// key, so that no test shares a key with another or with a real data
// directory.
package secrettest

import (
	"crypto/rand"
	"testing"

	"github.com/vigil-ispm/vigil/internal/secret"
)

// Box returns a box that seals with a new random master key.
func Box(t testing.TB) *secret.Box {
	t.Helper()
	box, _ := BoxAndKey(t)
	return box
}

// BoxAndKey returns a box with a new random master key and that key, for a
// test that opens what the box sealed from a second box: a restarted or a
// child process.
func BoxAndKey(t testing.TB) (*secret.Box, []byte) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box, key
}
