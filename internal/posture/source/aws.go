package source

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-ispm/vigil/internal/aws"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// awsReader reads an AWS account's IAM credential report, from a file or
// from IAM, and, with API credentials, who holds AdministratorAccess.
type awsReader struct {
	name   string
	tenant string
	file   string
	client *aws.Client // nil without API credentials
	m      *meter
}

func (s *Service) newAWSReader(name string, set Settings, cred Credentials, m *meter) (Reader, error) {
	r := &awsReader{name: name, tenant: set.Tenant, m: m}
	if set.File != "" {
		file, err := s.localFile(set.File)
		if err != nil {
			return nil, err
		}
		r.file = file
	}
	if set.AccessKeyID != "" || cred.SecretAccessKey != "" {
		c, err := aws.New(aws.Config{AccessKeyID: set.AccessKeyID, SecretAccessKey: cred.SecretAccessKey,
			SessionToken: cred.SessionToken, Region: set.Region, BaseURL: set.URL,
			HTTPClient: m.client(s.httpClient()), Retry: s.retry()})
		if err != nil {
			return nil, err
		}
		r.client = c
	}
	return r, nil
}

func (r *awsReader) Read(ctx context.Context, _ ProgressFunc) (*Result, error) {
	res := &Result{}
	r.m.stepTo("credential report")
	var rows []aws.Row
	if r.file != "" {
		var err error
		if rows, err = aws.ReadCredentialReportFile(r.file); err != nil {
			return nil, err
		}
		r.m.request()
	} else {
		rep, err := r.client.CredentialReport(ctx)
		if err != nil {
			return nil, err
		}
		rows = rep.Rows
	}
	admins := map[string][]string{}
	if r.client != nil {
		r.m.stepTo("policies")
		d, err := r.client.AuthorizationDetails(ctx)
		if err != nil {
			return nil, err
		}
		admins = d.Administrators()
	} else {
		res.Warnings = append(res.Warnings, "The credential report came from a file and no AWS credentials were given, so AdministratorAccess was not read; only the root user counts as a global admin.")
	}
	tenant := r.tenant
	seen := make(map[string]bool, len(rows))
	accounts := make([]*graph.Account, 0, len(rows))
	for _, row := range rows {
		if row.ARN == "" {
			return nil, fmt.Errorf("aws: credential report line %d: the arn is empty", row.Line)
		}
		if seen[row.ARN] {
			return nil, fmt.Errorf("aws: credential report line %d: the arn %s appears twice", row.Line, row.ARN)
		}
		seen[row.ARN] = true
		if tenant == "" {
			tenant = awsAccountID(row.ARN)
		}
		accounts = append(accounts, awsAccount(row, admins[row.User]))
	}
	if tenant == "" {
		return nil, fmt.Errorf("aws: the credential report names no account (no arn); set the tenant of the source")
	}
	r.m.setAccounts(len(accounts))
	res.Parts = []graph.Source{{Name: r.name, Product: graph.ProductAWS, Tenant: tenant, Accounts: accounts}}
	return res, nil
}

// awsAccountID returns the account id of an IAM ARN
// (arn:partition:iam::ACCOUNT:resource).
func awsAccountID(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// awsAccount maps a credential report row. An IAM user without a console
// password is a service account; the root user is human with Root set.
func awsAccount(row aws.Row, adminReasons []string) *graph.Account {
	a := &graph.Account{IDInService: row.ARN, Login: row.User, Status: graph.StatusActive, Kind: graph.KindHuman,
		Created: row.UserCreationTime}
	switch {
	case row.IsRoot():
		a.Root = true
		a.Privilege = graph.PrivilegeGlobalAdmin
		a.PrivilegeReasons = []string{"AWS account root user"}
	case !row.PasswordEnabled.Value:
		a.Kind = graph.KindService
		a.KindReasons = []string{"IAM user without a console password"}
	}
	if len(adminReasons) > 0 && !a.Root {
		a.Privilege = graph.PrivilegeGlobalAdmin
		a.PrivilegeReasons = adminReasons
	}
	a.MFA.State = graph.MFANone
	if row.MFAActive {
		a.MFA.State = graph.MFAEnrolled
	}
	if row.PasswordLastUsed.Valid() {
		t := row.PasswordLastUsed.Time
		a.LastLogin = &t
	}
	if row.PasswordLastChanged.Valid() && !a.Root {
		t := row.PasswordLastChanged.Time
		a.PasswordChanged = &t
	}
	for i, k := range row.AccessKeys {
		if !k.Active && !k.LastRotated.Valid() {
			continue // the slot holds no key
		}
		c := graph.Credential{ID: fmt.Sprintf("access_key_%d", i+1), Name: fmt.Sprintf("Access key %d", i+1),
			Kind: graph.CredentialAccessKey, Active: k.Active}
		if k.LastRotated.Valid() {
			t := k.LastRotated.Time
			c.LastRotated = &t
		}
		if k.LastUsedDate.Valid() {
			t := k.LastUsedDate.Time
			c.LastUsed = &t
		}
		a.Credentials = append(a.Credentials, c)
	}
	return a
}
