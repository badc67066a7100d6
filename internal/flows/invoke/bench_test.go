package invoke

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// BenchmarkRefusal measures the two refusals a prober compares, an
// unknown alias and a known alias with a wrong token, beside a bare
// net/http handler in the same run; the two refusals should cost about
// the same (compare their ns/op), since both look up the endpoint and the
// flow and open a sealed token.
func BenchmarkRefusal(b *testing.B) {
	st := storetest.SQLite(b)
	bd := setup(b, st, clientToken(), Config{})
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer bare.Close()
	unknown := bd.srv.URL + "/api/flo/" + strings.Repeat("a", len(bd.ep.Alias)) + "/invoke"
	for _, bc := range []struct{ name, url string }{
		{"bare net/http", bare.URL},
		{"unknown alias", unknown},
		{"wrong token", bd.url},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				resp, _ := bd.do(b, http.MethodPost, bc.url, `{}`, map[string]string{"x-api-client-token": "wrong-token-of-some-length-0000000"})
				if resp.StatusCode != http.StatusUnauthorized {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
