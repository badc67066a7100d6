package aws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/aws"
	"github.com/vigil-ispm/vigil/internal/aws/awstest"
	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

func setup(t *testing.T, edit func(*aws.Config)) (*awstest.Server, *clocktest.Clock, *aws.Client) {
	t.Helper()
	fake := awstest.New(t)
	sl := clocktest.Still(time.Time{})
	cfg := fake.Config()
	cfg.Retry = vendorhttp.Retry{Now: sl.Now, Sleep: sl.Sleep, Jitter: spend(sl)}
	if edit != nil {
		edit(&cfg)
	}
	c, err := aws.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fake, sl, c
}

// spend is the jitter the tests give the SDK's retryer: it records on
// clock the backoff the retryer chose, unjittered, and makes it wait none
// of it, so that a test checks the waits without spending them.
func spend(clock *clocktest.Clock) func(time.Duration) time.Duration {
	return func(d time.Duration) time.Duration {
		_ = clock.Sleep(context.Background(), d)
		return 0
	}
}

var sigV4 = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/\d{8}/us-east-1/iam/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`)

func TestCredentialReportWaitsForGeneration(t *testing.T) {
	fake, sl, c := setup(t, nil)
	csv, _ := os.ReadFile(filepath.Join("testdata", "credential-report.csv"))
	fake.SetCredentialReport(csv)
	fake.SetReportReadyAfter(3)

	report, err := c.CredentialReport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Rows) != 4 || !report.Rows[0].IsRoot() || report.GeneratedTime.IsZero() {
		t.Fatalf("report = %+v", report)
	}
	want := "GenerateCredentialReport GenerateCredentialReport GenerateCredentialReport GenerateCredentialReport GetCredentialReport"
	if got := strings.Join(fake.Actions(), " "); got != want {
		t.Errorf("actions = %s", got)
	}
	if fmt.Sprint(sl.Waits()) != "[2s 2s 2s]" {
		t.Errorf("waits = %v", sl.Waits())
	}
	for _, r := range fake.Requests() {
		if r.Method != http.MethodPost || r.Form.Get("Version") != "2010-05-08" || !sigV4.MatchString(r.Header.Get("Authorization")) {
			t.Errorf("request = %s %v %q", r.Method, r.Form, r.Header.Get("Authorization"))
		}
	}
}

func TestCredentialReportTimesOut(t *testing.T) {
	fake, sl, c := setup(t, func(c *aws.Config) { c.ReportPollInterval = time.Second; c.ReportTimeout = 3 * time.Second })
	fake.SetReportReadyAfter(100)
	_, err := c.CredentialReport(context.Background())
	if !errors.Is(err, aws.ErrReportTimeout) {
		t.Fatalf("err = %v", err)
	}
	if len(sl.Waits()) != 3 {
		t.Errorf("waits = %v", sl.Waits())
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		after     string
		n         int
		wantWaits string
		wantIs    error
	}{
		{"throttled then served", http.StatusBadRequest, "", 1, "[1s]", nil},
		// IAM sends no Retry-After; the SDK reads only its own x-amz-retry-after
		// hint, so a Retry-After header leaves the wait to the backoff.
		{"429 with Retry-After", http.StatusTooManyRequests, "3", 1, "[1s]", nil},
		{"503 twice", http.StatusServiceUnavailable, "", 2, "[1s 2s]", nil},
		{"throttled past the bound", http.StatusBadRequest, "", 9, "[1s 2s 4s]", aws.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, sl, c := setup(t, nil)
			fake.SetReportReadyAfter(0)
			fake.FailNext(tt.n, tt.status, tt.after)
			report, err := c.CredentialReport(context.Background())
			if tt.wantIs != nil {
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("err = %v", err)
				}
			} else if err != nil || len(report.Rows) != 2 {
				t.Fatalf("report %+v err %v", report, err)
			}
			if got := fmt.Sprint(sl.Waits()); got != tt.wantWaits {
				t.Errorf("waits = %s, want %s", got, tt.wantWaits)
			}
		})
	}
}

func TestCredentialsRefused(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*aws.Config)
		wantCode string
	}{
		{"wrong secret", func(c *aws.Config) { c.SecretAccessKey = "not-the-secret-key" }, "SignatureDoesNotMatch"},
		{"unknown key", func(c *aws.Config) { c.AccessKeyID = "AKIAUNKNOWN000000000" }, "InvalidClientTokenId"},
		{"wrong region", func(c *aws.Config) { c.Region = "eu-west-1" }, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sl, c := setup(t, tt.edit)
			_, err := c.CredentialReport(context.Background())
			var e *aws.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode || e.StatusCode != 403 || !errors.Is(err, aws.ErrUnauthorized) {
				t.Fatalf("err = %v, want %s", err, tt.wantCode)
			}
			if strings.Contains(err.Error(), "not-the-secret-key") || strings.Contains(err.Error(), awstest.SecretAccessKey) {
				t.Errorf("secret in %q", err)
			}
			if len(sl.Waits()) != 0 {
				t.Errorf("retried: %v", sl.Waits())
			}
		})
	}
}

func TestAuthorizationDetailsAndAdministrators(t *testing.T) {
	fake, _, c := setup(t, nil)
	admin := aws.Policy{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"}
	readOnly := aws.Policy{Name: "ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}
	fake.AddUser(awstest.User{UserName: "alice", AttachedPolicies: []aws.Policy{admin}, CreateDate: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
	fake.AddUser(awstest.User{UserName: "bob", Groups: []string{"Admins", "Readers"}})
	fake.AddUser(awstest.User{UserName: "carol", Groups: []string{"Readers"}, InlinePolicies: []string{"s3-only"}})
	fake.AddGroup(awstest.Group{GroupName: "Admins", AttachedPolicies: []aws.Policy{admin}})
	fake.AddGroup(awstest.Group{GroupName: "Readers", AttachedPolicies: []aws.Policy{readOnly}})
	fake.SetPageSize(2)

	d, err := c.AuthorizationDetails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Users) != 3 || len(d.Groups) != 2 {
		t.Fatalf("details = %+v", d)
	}
	if u := d.Users[2]; u.UserName != "carol" || len(u.InlinePolicies) != 1 || u.Groups[0] != "Readers" ||
		!strings.HasPrefix(u.ARN, "arn:aws:iam::123456789012:user/") {
		t.Errorf("carol = %+v", u)
	}
	admins := d.Administrators()
	want := map[string][]string{
		"alice": {"AdministratorAccess attached to the user"},
		"bob":   {"Member of group Admins, which has AdministratorAccess"},
	}
	if fmt.Sprint(admins) != fmt.Sprint(want) {
		t.Errorf("administrators = %v", admins)
	}
	reqs := fake.Requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3 pages", len(reqs))
	}
	for i, r := range reqs {
		if r.Action != "GetAccountAuthorizationDetails" || r.Form.Get("Filter.member.1") != "User" ||
			r.Form.Get("Filter.member.2") != "Group" || (i == 0) != (r.Form.Get("Marker") == "") {
			t.Errorf("request %d form = %v", i, r.Form)
		}
	}
}

func TestPolicyIsAdministratorAccessInEveryPartition(t *testing.T) {
	tests := []struct {
		arn  string
		want bool
	}{
		{"arn:aws:iam::aws:policy/AdministratorAccess", true},
		{"arn:aws-us-gov:iam::aws:policy/AdministratorAccess", true},
		{"arn:aws:iam::123456789012:policy/AdministratorAccess", false},
		{"arn:aws:iam::aws:policy/AdministratorAccess-Amplify", false},
	}
	for _, tt := range tests {
		if got := (aws.Policy{ARN: tt.arn}).IsAdministratorAccess(); got != tt.want {
			t.Errorf("%s: got %v", tt.arn, got)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := aws.New(aws.Config{}); err == nil || !strings.Contains(err.Error(), "missing the access key id, the secret access key, the HTTP client") {
		t.Errorf("err = %v", err)
	}
	if _, err := aws.New(aws.Config{AccessKeyID: "a", SecretAccessKey: "s", HTTPClient: http.DefaultClient, BaseURL: "iam.amazonaws.com"}); err == nil {
		t.Error("endpoint without scheme accepted")
	}
}

func TestNetworkErrorRetried(t *testing.T) {
	fake, sl, _ := setup(t, nil)
	fake.SetReportReadyAfter(0)
	c, err := aws.New(func() aws.Config {
		cfg := fake.Config()
		cfg.Retry = vendorhttp.Retry{Now: sl.Now, Sleep: sl.Sleep, Jitter: spend(sl)}
		cfg.HTTPClient = &http.Client{Transport: &vendorfake.Flaky{N: 2, Next: fake.Client().Transport}}
		return cfg
	}())
	if err != nil {
		t.Fatal(err)
	}
	report, err := c.CredentialReport(context.Background())
	if err != nil || len(report.Rows) != 2 {
		t.Fatalf("report %+v err %v", report, err)
	}
	if fmt.Sprint(sl.Waits()) != "[1s 2s]" {
		t.Errorf("waits = %v", sl.Waits())
	}
	c, _ = aws.New(func() aws.Config {
		cfg := fake.Config()
		cfg.Retry.MaxRetries = -1
		cfg.HTTPClient = &http.Client{Transport: &vendorfake.Flaky{N: 1, Next: fake.Client().Transport}}
		return cfg
	}())
	_, err = c.CredentialReport(context.Background())
	if want := "aws: GenerateCredentialReport: could not reach IAM: connection reset by peer"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
