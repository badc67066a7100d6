package aws_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/vigil-ispm/vigil/internal/aws"
)

// FuzzParseCredentialReport parses any CSV as a credential report: it must
// return rows or an error, never panic.
func FuzzParseCredentialReport(f *testing.F) {
	if data, err := os.ReadFile("testdata/credential-report.csv"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("user,arn\n"))
	f.Add([]byte(""))
	f.Add([]byte("\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := aws.ParseCredentialReport(bytes.NewReader(data))
		if err != nil && rows != nil {
			t.Fatalf("rows and an error: %v", err)
		}
	})
}
