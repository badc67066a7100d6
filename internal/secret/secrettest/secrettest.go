// Package secrettest gives tests a sealing box with a fresh random master
// key, so that no test shares a key with another or with a real data
// directory.
package secrettest

import (
	"crypto/rand"
	"encoding/base64"
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

// MasterKey returns a new random master key in base64, the form
// VIGIL_MASTER_KEY and app.Config.MasterKey take, for a test that starts
// several processes or nodes on one key.
func MasterKey(t testing.TB) string {
	t.Helper()
	_, key := BoxAndKey(t)
	return base64.StdEncoding.EncodeToString(key)
}
