package aws_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/aws"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestReadCredentialReportFile(t *testing.T) {
	rows, err := aws.ReadCredentialReportFile(filepath.Join("testdata", "credential-report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("got %d rows", len(rows))
	}
	root, ali, ci, old := rows[0], rows[1], rows[2], rows[3]

	if !root.IsRoot() || root.ARN != "arn:aws:iam::123456789012:root" || root.Line != 2 ||
		root.PasswordEnabled.Status != aws.NotSupported || root.PasswordLastChanged.Status != aws.NotSupported ||
		!root.PasswordLastUsed.Valid() || root.MFAActive ||
		!root.AccessKeys[0].Active || root.AccessKeys[0].LastUsedService != "s3" ||
		!root.AccessKeys[0].LastRotated.Time.Equal(ts("2020-01-15T09:00:00Z")) ||
		root.AccessKeys[1].Active || root.AccessKeys[1].LastRotated.Status != aws.NotApplicable {
		t.Errorf("root = %+v", root)
	}
	if ali.IsRoot() || ali.User != "ali.lesch" || !ali.PasswordEnabled.Value || ali.PasswordEnabled.Status != aws.Present ||
		!ali.PasswordLastUsed.Time.Equal(ts("2026-08-29T08:12:00Z")) || !ali.MFAActive ||
		ali.PasswordNextRotation.Status != aws.NotApplicable || !ali.AccessKeys[1].Active ||
		ali.AccessKeys[1].LastUsedDate.Status != aws.NotApplicable || ali.AccessKeys[1].LastUsedRegion != "" ||
		!ali.UserCreationTime.Equal(ts("2021-06-10T12:00:00Z")) {
		t.Errorf("ali = %+v", ali)
	}
	if ci.PasswordEnabled.Value || ci.PasswordLastUsed.Status != aws.NotApplicable ||
		ci.AccessKeys[0].LastUsedDate.Status != aws.NoInformation || !ci.Certificates[0].Active ||
		!ci.Certificates[0].LastRotated.Time.Equal(ts("2022-03-03T00:00:00Z")) {
		t.Errorf("ci = %+v", ci)
	}
	if old.PasswordLastUsed.Status != aws.NoInformation || !old.PasswordNextRotation.Valid() {
		t.Errorf("old = %+v", old)
	}
}

func TestParseCredentialReportRefusesMalformedInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "credential-report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	header, root := lines[0], lines[1]
	tests := []struct {
		name string
		csv  string
		want string
	}{
		{"empty", "", "the credential report is empty"},
		{"missing column", strings.Replace(header, ",mfa_active", "", 1) + "\n", `line 1: the column "mfa_active" is missing`},
		{"short row", header + "\n" + root + "\nbob,arn,2020-01-01T00:00:00+00:00\n", "line 3: wrong number of fields"},
		{"bad boolean", header + "\n" + strings.Replace(root, ",false,true,", ",maybe,true,", 1) + "\n", `line 2: the mfa_active value "maybe" is not true or false`},
		{"bad timestamp", header + "\n" + strings.Replace(root, "2019-03-01T10:00:00+00:00", "yesterday", 1) + "\n",
			`line 2: the user_creation_time value "yesterday" is not a timestamp`},
		{"status word where a time must be", header + "\n" + strings.Replace(root, "2019-03-01T10:00:00+00:00", "N/A", 1) + "\n",
			"line 2: the user_creation_time value \"N/A\" is not a timestamp"},
		{"bare quote", header + "\n" + `bo"b` + strings.TrimPrefix(root, "<root_account>") + "\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := aws.ParseCredentialReport(strings.NewReader(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseCredentialReportReadsColumnsByName(t *testing.T) {
	good, _ := os.ReadFile(filepath.Join("testdata", "credential-report.csv"))
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	// Move "arn" to the end and add a column AWS might add one day.
	var out []string
	for _, l := range lines {
		f := strings.Split(l, ",")
		f = append(append([]string{f[0]}, f[2:]...), f[1], "extra")
		out = append(out, strings.Join(f, ","))
	}
	rows, err := aws.ParseCredentialReport(strings.NewReader("\ufeff" + strings.Join(out, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if rows[1].ARN != "arn:aws:iam::123456789012:user/ali.lesch" || !rows[1].MFAActive {
		t.Errorf("row = %+v", rows[1])
	}
}

func TestReadCredentialReportFileMissing(t *testing.T) {
	if _, err := aws.ReadCredentialReportFile(filepath.Join(t.TempDir(), "none.csv")); err == nil {
		t.Error("missing file accepted")
	}
}
