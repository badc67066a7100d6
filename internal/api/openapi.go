package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"gopkg.in/yaml.v3"
)

// openAPIYAML is the OpenAPI 3 document of the API, written in YAML to be
// read and reviewed by people; it is served as JSON.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPI returns the OpenAPI 3 document of the API as JSON.
func OpenAPI() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("read the embedded OpenAPI document: %w", err)
	}
	return json.MarshalIndent(jsonable(doc), "", "  ")
}

// jsonable turns what YAML decoding gives (maps whose keys may be numbers,
// such as response codes) into values encoding/json accepts.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = jsonable(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = jsonable(x)
		}
		return v
	}
	return v
}

// serveOpenAPI serves GET /api/openapi.json.
func (a *API) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	if a.docErr != nil {
		a.writeError(w, r, a.docErr)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(a.doc)
}
