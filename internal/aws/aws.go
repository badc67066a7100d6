// Package aws reads the AWS identity data Vigil needs: the IAM credential
// report (every user's password, MFA, access key and certificate state, and
// the root account's) and the managed policies attached to users and groups,
// which tell who holds AdministratorAccess.
//
// The report is parsed from a file or fetched with GenerateCredentialReport
// and GetCredentialReport through aws-sdk-go-v2's IAM client, pointed at a
// configurable endpoint and sending through the caller's HTTP client.
// Retries are the SDK's own standard retryer, configured from vendorhttp's
// retry settings: the attempts, the capped exponential backoff and its
// jitter are Vigil's, as for the other vendor clients; which answers are
// retried (throttling codes, 5xx, lost connections) and the
// x-amz-retry-after hint are the SDK's rules. Its client-side retry quota
// is off, since a scan is the only caller and must keep its own budget.
package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// DefaultRegion is the region IAM requests are signed for; IAM is global and
// its endpoint lives in us-east-1.
const DefaultRegion = "us-east-1"

// Config says which account to read and how. Zero values mean the default
// named on each field.
type Config struct {
	// AccessKeyID and SecretAccessKey are the credentials of an IAM user or
	// role allowed iam:GenerateCredentialReport, iam:GetCredentialReport and
	// iam:GetAccountAuthorizationDetails. Required. The secret never
	// appears in errors.
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken goes with temporary credentials.
	SessionToken string
	// Region is the signing region. Default DefaultRegion.
	Region string
	// BaseURL is IAM's endpoint. Default the SDK's for Region
	// (https://iam.amazonaws.com).
	BaseURL string
	// HTTPClient sends every request. Required: callers pass Vigil's
	// SSRF-guarded client.
	HTTPClient *http.Client
	// Retry says how often and how long the SDK's retryer waits before
	// retrying throttling, a 5xx answer or a lost connection (MaxRetries,
	// MaxWait, Jitter; the SDK sleeps on the wall clock); its Sleep waits
	// between report polls. Zero values mean vendorhttp's defaults.
	Retry vendorhttp.Retry
	// ReportPollInterval is the wait between checks while AWS generates the
	// credential report. Default 2 seconds.
	ReportPollInterval time.Duration
	// ReportTimeout bounds the total wait for the report. Default 5 minutes.
	ReportTimeout time.Duration
}

// Client reads one AWS account. It is safe for concurrent use.
type Client struct {
	cfg Config
	iam *iam.Client
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if err := vendorhttp.Missing("aws", "source", vendorhttp.Need("access key id", cfg.AccessKeyID != ""), vendorhttp.Need("secret access key", cfg.SecretAccessKey != ""),
		vendorhttp.Need("HTTP client", cfg.HTTPClient != nil)); err != nil {
		return nil, err
	}
	if cfg.BaseURL != "" {
		if _, ok := vendorhttp.HTTPURL(cfg.BaseURL); !ok {
			return nil, fmt.Errorf("aws: the IAM endpoint %q is not an http(s) URL", cfg.BaseURL)
		}
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	cfg.Retry = cfg.Retry.WithDefaults()
	if cfg.ReportPollInterval <= 0 {
		cfg.ReportPollInterval = 2 * time.Second
	}
	if cfg.ReportTimeout <= 0 {
		cfg.ReportTimeout = 5 * time.Minute
	}
	creds := awssdk.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey,
		SessionToken: cfg.SessionToken, Source: "Vigil"}
	opts := iam.Options{
		Region:     cfg.Region,
		HTTPClient: cfg.HTTPClient,
		Retryer:    newRetryer(cfg.Retry),
		Credentials: awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
			return creds, nil
		}),
	}
	if cfg.BaseURL != "" {
		opts.BaseEndpoint = awssdk.String(strings.TrimRight(cfg.BaseURL, "/"))
	}
	return &Client{cfg: cfg, iam: iam.New(opts)}, nil
}

// ErrReportTimeout is wrapped when AWS has not finished the credential
// report within Config.ReportTimeout.
var ErrReportTimeout = errors.New("the credential report was not ready in time")
