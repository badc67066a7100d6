package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/settings"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestSettingsApplyWithoutRestart checks that a running server sees a
// change of the saved public URL and outbound allowlist, made in the
// database as another node's console would make it, or through the JSON
// API, without a restart:
// invoke URLs the API shows move to the new public URL, and a flow's HTTP
// call to a loopback address, refused while the allowlist is empty, goes
// through once the saved allowlist holds loopback.
func TestSettingsApplyWithoutRestart(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.DatabaseURL(t, dialect)
		if db == "" {
			db = "sqlite://" + filepath.Join(t.TempDir(), "vigil.db")
		}
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"pong": true}`)
		}))
		defer receiver.Close()
		doc := `document: {dsl: '1.0.0', namespace: live, name: ping, version: '1.0.0', title: Ping,
  metadata: {vigil: {trigger: {apiEndpoint: {security: public}}}}}
do:
  - ping: {call: http, with: {method: get, endpoint: '` + receiver.URL + `/ping'}}
`
		var flowID, token string
		r := startNode(t, db, "", func(ctx context.Context, srv *app.Server) {
			svc := srv.Services()
			folder, err := svc.Flows.CreateFolder(ctx, "Live", "")
			if err != nil {
				t.Fatal(err)
			}
			res, err := svc.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(doc)})
			if err != nil {
				t.Fatal(err)
			}
			flowID = res.Flow.ID
			if _, err := svc.Flows.SetOn(ctx, flowID, true); err != nil {
				t.Fatal(err)
			}
			u, err := svc.Auth.CreateUser(ctx, "admin", auth.RoleSuperAdmin, auth.GeneratePassword())
			if err != nil {
				t.Fatal(err)
			}
			if _, token, err = svc.Auth.CreateToken(ctx, u.ID, "test", 0); err != nil {
				t.Fatal(err)
			}
		}, func(c *app.Config) { c.AllowOutbound = "" })

		invokeURL := func() string {
			status, body := call(t, http.MethodGet, r.url+"/api/v1/flows/"+flowID+"/endpoint", token, "")
			var ep struct {
				InvokeURL string `json:"invokeUrl"`
			}
			if err := json.Unmarshal([]byte(body), &ep); err != nil || status != http.StatusOK {
				t.Fatalf("GET endpoint: %d %v", status, err)
			}
			return ep.InvokeURL
		}
		invoke := func(u string) (int, string) {
			resp, err := http.Post(u, "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		before := invokeURL()
		if !strings.HasPrefix(before, r.url+"/api/flo/") {
			t.Fatalf("invoke URL %s, want one on %s", before, r.url)
		}
		if status, body := invoke(before); status == http.StatusOK || !strings.Contains(body, "communication") {
			t.Fatalf("a loopback call with no allowlist answered %d %s; want the guard's communication fault", status, body)
		}

		other, err := store.Open(ctx, store.Config{URL: db})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		saved := settings.NewService(other.Queries, nil, settings.Values{})
		if err := saved.Save(ctx, settings.Values{PublicURL: "https://vigil.example.test",
			AllowOutbound: "127.0.0.0/8", HistoryDays: 30, DeliveryDays: 30}); err != nil {
			t.Fatal(err)
		}
		// The server caches each setting for a second; wait for both
		// changes (the deadline only stops a broken build from hanging).
		path := strings.TrimPrefix(before, r.url)
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			got := invokeURL()
			status, body := invoke(before)
			if got == "https://vigil.example.test"+path && status == http.StatusOK && strings.Contains(body, `"pong"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after a settings change the invoke URL is %s and the loopback call answers %d %s", got, status, body)
			}
		}

		// The JSON API changes the same setting: a bad URL changes
		// nothing, a good one applies like a change in the console.
		put := func(body string) (int, string) { return call(t, http.MethodPut, r.url+"/api/v1/settings", token, body) }
		if status, body := put(`{"publicUrl": "ftp://vigil.example.test"}`); status != http.StatusBadRequest || !strings.Contains(body, `"field":"publicUrl"`) {
			t.Errorf("PUT settings with an ftp URL: %d %s; want 400 naming publicUrl", status, body)
		}
		if status, body := put(`{"publicUrl": "https://api.example.test/"}`); status != http.StatusOK ||
			!strings.Contains(body, `"publicUrl":"https://api.example.test"`) || !strings.Contains(body, `"allowOutbound":"127.0.0.0/8"`) {
			t.Fatalf("PUT settings: %d %s; want the new URL and the other settings kept", status, body)
		}
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			got := invokeURL()
			if got == "https://api.example.test"+path {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after a change through the API the invoke URL is %s", got)
			}
		}
	})
}
