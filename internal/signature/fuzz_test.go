package signature_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/signature"
)

// FuzzVerify checks any header values against a fixed secret: Verify must
// never panic and never accept a signature that Sign did not make, and it
// must accept what Sign made for the same body.
func FuzzVerify(f *testing.F) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Unix(1795860000, 0)
	f.Add("msg_1", "1795860000", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"a":1}`))
	f.Add("msg_1", "1795860000", "v1,x v2,y v1,", []byte(""))
	f.Add("", "", "", []byte(nil))
	f.Add("msg_2", "-1", "v1,====", []byte("x"))
	f.Add("msg_3", "99999999999999999999", "v1a,abc", []byte("{}"))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(signature.HeaderID, id)
		h.Set(signature.HeaderTimestamp, ts)
		h.Set(signature.HeaderSignature, sig)
		if err := signature.Verify([]string{secret}, h, body, now, 0); err == nil {
			want, serr := signature.Sign(secret, id, now, body)
			if serr != nil || ts != "1795860000" || !containsField(sig, want) {
				t.Fatalf("Verify accepted id %q ts %q sig %q, which Sign did not make", id, ts, sig)
			}
		}
		if id == "" || len(id) > 256 {
			return
		}
		good, err := signature.Headers(id, now, body, secret)
		if err != nil {
			return
		}
		if err := signature.Verify([]string{secret}, good, body, now, 0); err != nil {
			t.Fatalf("Verify refused what Headers made for id %q: %v", id, err)
		}
	})
}

// containsField reports whether the space-separated list holds want.
func containsField(list, want string) bool {
	start := 0
	for i := 0; i <= len(list); i++ {
		if i == len(list) || list[i] == ' ' {
			if list[start:i] == want {
				return true
			}
			start = i + 1
		}
	}
	return false
}
