package awstest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/aws/awstest"
)

func TestFakeRefusesUnsignedAndMalformedRequests(t *testing.T) {
	s := awstest.New(t)
	tests := []struct {
		name     string
		method   string
		body     string
		auth     string
		wantCode string
		want     int
	}{
		{"GET is not the Query API", http.MethodGet, "", "", "InvalidAction", 400},
		{"no signature", http.MethodPost, "Action=GetCredentialReport&Version=2010-05-08", "", "IncompleteSignature", 403},
		{"malformed signature", http.MethodPost, "Action=GetCredentialReport&Version=2010-05-08", "AWS4-HMAC-SHA256 Credential=x", "IncompleteSignature", 403},
		{"unknown access key", http.MethodPost, "Action=GetCredentialReport&Version=2010-05-08",
			"AWS4-HMAC-SHA256 Credential=AKIAOTHER/20261128/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("a", 64),
			"InvalidClientTokenId", 403},
		{"forged signature", http.MethodPost, "Action=GetCredentialReport&Version=2010-05-08",
			"AWS4-HMAC-SHA256 Credential=" + awstest.AccessKeyID + "/20261128/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("a", 64),
			"SignatureDoesNotMatch", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+"/", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			req.Header.Set("X-Amz-Date", "20261128T100000Z")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want || !strings.Contains(string(body), "<Code>"+tt.wantCode+"</Code>") {
				t.Errorf("status %d body %s, want %d %s", resp.StatusCode, body, tt.want, tt.wantCode)
			}
		})
	}
}
