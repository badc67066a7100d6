package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// oktaTemplatePaths are the fields Okta's published ISPM template flows
// (identity_security_posture_management and its delegated-flow variant)
// read from the event; docs/hooks.md lists them with the helper inputs
// they feed.
var oktaTemplatePaths = []string{
	"eventData.title", "eventData.category", "eventData.severity", "eventData.fullDescription",
	"eventData.shortDescription", "eventData.detectedAt", "eventData.suggestedRemediation", "eventData.riskAndImpact",
	"eventData.affectedEntity.displayName", "eventData.affectedEntity.idInService",
	"eventData.affectedEntity.sourceProductName", "eventData.affectedEntity.sourceProductTenant",
}

// TestOktaTemplatePaths checks that the event as sent on the wire has a
// non-empty string at every path Okta's ISPM template reads, so that its
// flows run unchanged on Vigil's events.
func TestOktaTemplatePaths(t *testing.T) {
	raw, err := json.Marshal(Sample("0b8f3c7e-2f1d-4a8e-9b0c-6f1e2d3c4b5a", time.Now(), "https://vigil.example.test"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	for _, path := range oktaTemplatePaths {
		var v any = ev
		for _, key := range strings.Split(path, ".") {
			m, _ := v.(map[string]any)
			v = m[key]
		}
		if s, ok := v.(string); !ok || s == "" {
			t.Errorf("%s = %v; Okta's template reads a non-empty string there", path, v)
		}
	}
	if _, err := time.Parse(time.RFC3339, ev["eventData"].(map[string]any)["detectedAt"].(string)); err != nil {
		t.Errorf("detectedAt is not RFC 3339: %v", err)
	}
}
