package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// CredentialReport is a fetched credential report.
type CredentialReport struct {
	// GeneratedTime is when AWS made the report; AWS serves the same report
	// for four hours before it generates a new one.
	GeneratedTime time.Time
	Rows          []Row
}

// CredentialReport asks AWS to generate the credential report, waits until
// it is complete (polling GenerateCredentialReport, as AWS recommends), then
// fetches and parses it.
func (c *Client) CredentialReport(ctx context.Context) (CredentialReport, error) {
	polls := int(c.cfg.ReportTimeout / c.cfg.ReportPollInterval)
	for poll := 0; ; poll++ {
		gen, err := call(ctx, c, "GenerateCredentialReport", func(ctx context.Context) (*iam.GenerateCredentialReportOutput, error) {
			return c.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		})
		if err != nil {
			return CredentialReport{}, err
		}
		if gen.State == types.ReportStateTypeComplete {
			out, err := call(ctx, c, "GetCredentialReport", func(ctx context.Context) (*iam.GetCredentialReportOutput, error) {
				return c.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			})
			var e *Error
			if errors.As(err, &e) && e.Code == "ReportInProgress" {
				// Generated between the two calls; wait like any other poll.
			} else if err != nil {
				return CredentialReport{}, err
			} else {
				if out.ReportFormat != "" && out.ReportFormat != types.ReportFormatTypeTextCsv {
					return CredentialReport{}, fmt.Errorf("aws: GetCredentialReport: the report came as %q, not text/csv", out.ReportFormat)
				}
				rows, err := ParseCredentialReport(bytes.NewReader(out.Content))
				if err != nil {
					return CredentialReport{}, err
				}
				return CredentialReport{GeneratedTime: awssdk.ToTime(out.GeneratedTime), Rows: rows}, nil
			}
		}
		if poll >= polls {
			return CredentialReport{}, fmt.Errorf("aws: GenerateCredentialReport: %w after %s", ErrReportTimeout, c.cfg.ReportTimeout)
		}
		if err := c.cfg.Retry.Sleep(ctx, c.cfg.ReportPollInterval); err != nil {
			return CredentialReport{}, err
		}
	}
}

// Policy is a managed policy attached to a user or group.
type Policy struct {
	Name string
	ARN  string
}

// IsAdministratorAccess says whether p is AWS's AdministratorAccess managed
// policy, in any partition.
func (p Policy) IsAdministratorAccess() bool {
	return strings.HasSuffix(p.ARN, ":iam::aws:policy/AdministratorAccess")
}

// UserDetail is an IAM user with the policies and groups that grant it access.
type UserDetail struct {
	UserName         string
	UserID           string
	ARN              string
	CreateDate       time.Time
	AttachedPolicies []Policy
	// Groups are the names of the groups the user is in.
	Groups []string
	// InlinePolicies are the names of policies embedded in the user.
	InlinePolicies []string
}

// GroupDetail is an IAM group with its policies.
type GroupDetail struct {
	GroupName        string
	GroupID          string
	ARN              string
	AttachedPolicies []Policy
	InlinePolicies   []string
}

// AuthorizationDetails are the account's users and groups with their policies.
type AuthorizationDetails struct {
	Users  []UserDetail
	Groups []GroupDetail
}

// AuthorizationDetails reads every user and group with its attached and
// inline policies, in one paged GetAccountAuthorizationDetails listing
// instead of a call per user.
func (c *Client) AuthorizationDetails(ctx context.Context) (AuthorizationDetails, error) {
	var d AuthorizationDetails
	var marker *string
	seen := map[string]bool{}
	for {
		in := &iam.GetAccountAuthorizationDetailsInput{
			Filter: []types.EntityType{types.EntityTypeUser, types.EntityTypeGroup},
			Marker: marker,
		}
		out, err := call(ctx, c, "GetAccountAuthorizationDetails", func(ctx context.Context) (*iam.GetAccountAuthorizationDetailsOutput, error) {
			return c.iam.GetAccountAuthorizationDetails(ctx, in)
		})
		if err != nil {
			return AuthorizationDetails{}, err
		}
		for _, u := range out.UserDetailList {
			ud := UserDetail{UserName: awssdk.ToString(u.UserName), UserID: awssdk.ToString(u.UserId),
				ARN: awssdk.ToString(u.Arn), CreateDate: awssdk.ToTime(u.CreateDate), Groups: u.GroupList,
				AttachedPolicies: policies(u.AttachedManagedPolicies)}
			for _, p := range u.UserPolicyList {
				ud.InlinePolicies = append(ud.InlinePolicies, awssdk.ToString(p.PolicyName))
			}
			d.Users = append(d.Users, ud)
		}
		for _, g := range out.GroupDetailList {
			gd := GroupDetail{GroupName: awssdk.ToString(g.GroupName), GroupID: awssdk.ToString(g.GroupId),
				ARN: awssdk.ToString(g.Arn), AttachedPolicies: policies(g.AttachedManagedPolicies)}
			for _, p := range g.GroupPolicyList {
				gd.InlinePolicies = append(gd.InlinePolicies, awssdk.ToString(p.PolicyName))
			}
			d.Groups = append(d.Groups, gd)
		}
		if !out.IsTruncated || awssdk.ToString(out.Marker) == "" {
			return d, nil
		}
		if seen[*out.Marker] {
			return AuthorizationDetails{}, errors.New("aws: GetAccountAuthorizationDetails: IAM returned the same marker twice")
		}
		seen[*out.Marker] = true
		marker = out.Marker
	}
}

func policies(in []types.AttachedPolicy) []Policy {
	out := make([]Policy, 0, len(in))
	for _, p := range in {
		out = append(out, Policy{Name: awssdk.ToString(p.PolicyName), ARN: awssdk.ToString(p.PolicyArn)})
	}
	return out
}

// Administrators maps each user holding AdministratorAccess to the reasons,
// such as "AdministratorAccess attached to the user" or "Member of group
// Admins, which has AdministratorAccess". Inline policies granting "*" on
// "*" are not read.
func (d AuthorizationDetails) Administrators() map[string][]string {
	adminGroups := map[string]bool{}
	for _, g := range d.Groups {
		for _, p := range g.AttachedPolicies {
			if p.IsAdministratorAccess() {
				adminGroups[g.GroupName] = true
			}
		}
	}
	out := map[string][]string{}
	for _, u := range d.Users {
		for _, p := range u.AttachedPolicies {
			if p.IsAdministratorAccess() {
				out[u.UserName] = append(out[u.UserName], "AdministratorAccess attached to the user")
			}
		}
		for _, g := range u.Groups {
			if adminGroups[g] {
				out[u.UserName] = append(out[u.UserName], "Member of group "+g+", which has AdministratorAccess")
			}
		}
	}
	return out
}
