// Package awstest runs an in-process fake of the IAM Query API actions that
// package aws calls: GenerateCredentialReport, GetCredentialReport and
// GetAccountAuthorizationDetails.
//
// It checks what IAM checks before answering: POST with a form body, the
// Action and Version=2010-05-08, and a SigV4 Authorization header whose
// format, access key, scope (region us-east-1, service iam) and signature are
// right; the signature is recomputed with the known secret. It answers in
// IAM's XML, errors in IAM's ErrorResponse shape, records every request, and
// can be told to throttle or fail the next requests.
package awstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/vigil-ispm/vigil/internal/aws"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// Credentials the fake accepts.
const (
	AccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	AccountID       = "123456789012"
)

const xmlns = "https://iam.amazonaws.com/doc/2010-05-08/"

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	// Action is the form's Action parameter.
	Action string
	// Form is the whole decoded form body.
	Form   url.Values
	Header http.Header
	Body   []byte
}

// User is an IAM user for GetAccountAuthorizationDetails.
type User struct {
	UserName         string
	Groups           []string
	AttachedPolicies []aws.Policy
	InlinePolicies   []string
	CreateDate       time.Time
}

// Group is an IAM group for GetAccountAuthorizationDetails.
type Group struct {
	GroupName        string
	AttachedPolicies []aws.Policy
	InlinePolicies   []string
}

// Server is the fake. Call NewServer.
type Server struct {
	vendorfake.Base // URL is the IAM endpoint

	mu         sync.Mutex
	report     []byte
	generated  time.Time
	readyAfter int // GenerateCredentialReport calls before COMPLETE
	genCalls   int
	users      []User
	groups     []Group
	pageSize   int
	markers    map[string]int
	requests   []Request
	faults     vendorfake.Faults
}

// DefaultReport is the credential report a new fake serves: the root account
// and one user.
const DefaultReport = `user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2019-03-01T10:00:00+00:00,not_supported,2026-10-02T08:30:12+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::123456789012:user/alice,2021-06-10T12:00:00+00:00,true,2026-11-20T08:12:00+00:00,2026-01-01T00:00:00+00:00,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
`

// New starts a fake serving DefaultReport after one GenerateCredentialReport
// call; it is closed when the test ends.
func New(t testing.TB) *Server { return vendorfake.ForTest(t, NewServer()) }

// NewServer starts a fake serving DefaultReport after one
// GenerateCredentialReport call; the caller closes it.
func NewServer() *Server {
	s := &Server{report: []byte(DefaultReport), readyAfter: 1, pageSize: 100, markers: map[string]int{},
		generated: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	s.Start(http.HandlerFunc(s.serve))
	return s
}

// Config returns an aws.Config for the fake with the accepted credentials.
func (s *Server) Config() aws.Config {
	return aws.Config{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, BaseURL: s.URL, HTTPClient: s.Client()}
}

// SetCredentialReport replaces the CSV that GetCredentialReport serves.
func (s *Server) SetCredentialReport(csv []byte) {
	vendorfake.Set(&s.mu, &s.report, append([]byte(nil), csv...))
}

// SetReportReadyAfter says how many GenerateCredentialReport calls answer
// STARTED or INPROGRESS before one answers COMPLETE. Default 1.
func (s *Server) SetReportReadyAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readyAfter, s.genCalls = n, 0
}

// SetPageSize caps GetAccountAuthorizationDetails pages, whatever MaxItems
// asks. Default 100, IAM's default.
func (s *Server) SetPageSize(n int) {
	vendorfake.Set(&s.mu, &s.pageSize, n)
}

// AddUser adds a user to the authorization details.
func (s *Server) AddUser(u User) {
	vendorfake.Append(&s.mu, &s.users, u)
}

// AddGroup adds a group to the authorization details.
func (s *Server) AddGroup(g Group) {
	vendorfake.Append(&s.mu, &s.groups, g)
}

// FailNext makes the next n requests fail: 400 and 429 answer IAM's
// Throttling error, 5xx answer ServiceUnavailable. retryAfter, when not
// empty, is sent as Retry-After.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.faults.Fail(n, status, retryAfter)
}

// Requests returns every request received, in order, with the form's
// Action read out.
func (s *Server) Requests() []Request {
	return vendorfake.Copy(&s.mu, &s.requests)
}

// Actions returns the Action of every request received, in order.
func (s *Server) Actions() []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Action)
	}
	return out
}

var authPattern = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Action: form.Get("Action"),
		Form: form, Header: r.Header.Clone(), Body: body})

	if r.Method != http.MethodPost || r.URL.Path != "/" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		iamError(w, http.StatusBadRequest, "Sender", "InvalidAction", "The IAM Query API takes POST / with a form body.")
		return
	}
	if code, msg := s.checkSignature(r, body); code != "" {
		iamError(w, http.StatusForbidden, "Sender", code, msg)
		return
	}
	if f, ok := s.faults.Take(w); ok {
		if f.Status < 500 {
			iamError(w, f.Status, "Sender", "Throttling", "Rate exceeded")
		} else {
			iamError(w, f.Status, "Receiver", "ServiceUnavailable", "Service is unable to handle request.")
		}
		return
	}
	action := form.Get("Action")
	if v := form.Get("Version"); v != "2010-05-08" {
		iamError(w, http.StatusBadRequest, "Sender", "InvalidAction",
			fmt.Sprintf("Could not find operation %s for version %s", action, v))
		return
	}
	switch action {
	case "GenerateCredentialReport":
		s.genCalls++
		state, desc := "COMPLETE", ""
		switch {
		case s.genCalls == 1 && s.readyAfter > 0:
			state, desc = "STARTED", "No report exists. Starting a new report generation task"
		case s.genCalls <= s.readyAfter:
			state = "INPROGRESS"
		}
		writeXML(w, fmt.Sprintf(`<GenerateCredentialReportResponse xmlns="%s"><GenerateCredentialReportResult>%s<State>%s</State></GenerateCredentialReportResult>%s</GenerateCredentialReportResponse>`,
			xmlns, elem("Description", desc), state, meta()))
	case "GetCredentialReport":
		switch {
		case s.genCalls == 0:
			iamError(w, http.StatusGone, "Sender", "ReportNotPresent",
				"Credential report not present. Call GenerateCredentialReport first.")
		case s.genCalls <= s.readyAfter:
			iamError(w, http.StatusNotFound, "Sender", "ReportInProgress", "Credential report is being generated.")
		default:
			writeXML(w, fmt.Sprintf(`<GetCredentialReportResponse xmlns="%s"><GetCredentialReportResult><Content>%s</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>%s</GeneratedTime></GetCredentialReportResult>%s</GetCredentialReportResponse>`,
				xmlns, base64.StdEncoding.EncodeToString(s.report), s.generated.Format(time.RFC3339), meta()))
		}
	case "GetAccountAuthorizationDetails":
		s.details(w, form)
	default:
		iamError(w, http.StatusBadRequest, "Sender", "InvalidAction",
			fmt.Sprintf("Could not find operation %s for version 2010-05-08", action))
	}
}

// checkSignature verifies the SigV4 Authorization header by signing the same
// request again with the known secret.
func (s *Server) checkSignature(r *http.Request, body []byte) (code, msg string) {
	m := authPattern.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "IncompleteSignature", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."
	}
	akid, date, region, service, signed := m[1], m[2], m[3], m[4], m[5]
	if akid != AccessKeyID {
		return "InvalidClientTokenId", "The security token included in the request is invalid."
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, date) {
		return "IncompleteSignature", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP."
	}
	if region != "us-east-1" || service != "iam" {
		return "SignatureDoesNotMatch", fmt.Sprintf("Credential should be scoped to a valid region and service iam, not '%s/%s'.", region, service)
	}
	if !strings.Contains(";"+signed+";", ";host;") || !strings.Contains(";"+signed+";", ";x-amz-date;") {
		return "SignatureDoesNotMatch", "SignedHeaders must include host and x-amz-date."
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body)) //nolint:gosec // rebuilt only to check its signature, never sent
	for _, h := range strings.Split(signed, ";") {
		if h != "host" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	again.ContentLength = int64(len(body))
	sum := sha256.Sum256(body)
	creds := awssdk.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey,
		SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "iam", "us-east-1", t); err != nil {
		return "SignatureDoesNotMatch", err.Error()
	}
	if again.Header.Get("Authorization") != r.Header.Get("Authorization") {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
	}
	return "", ""
}

func (s *Server) details(w http.ResponseWriter, form url.Values) {
	want := map[string]bool{}
	for i := 1; form.Get(fmt.Sprintf("Filter.member.%d", i)) != ""; i++ {
		f := form.Get(fmt.Sprintf("Filter.member.%d", i))
		switch f {
		case "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
			want[f] = true
		default:
			iamError(w, http.StatusBadRequest, "Sender", "ValidationError",
				fmt.Sprintf("1 validation error detected: Value '%s' at 'filter' failed to satisfy constraint", f))
			return
		}
	}
	all := len(want) == 0
	var entities []any
	if all || want["User"] {
		for _, u := range s.users {
			entities = append(entities, u)
		}
	}
	if all || want["Group"] {
		for _, g := range s.groups {
			entities = append(entities, g)
		}
	}
	size := s.pageSize
	if mi := form.Get("MaxItems"); mi != "" {
		n, err := strconv.Atoi(mi)
		if err != nil || n < 1 || n > 1000 {
			iamError(w, http.StatusBadRequest, "Sender", "ValidationError", "MaxItems must be between 1 and 1000.")
			return
		}
		size = min(size, n)
	}
	offset := 0
	if mk := form.Get("Marker"); mk != "" {
		o, ok := s.markers[mk]
		if !ok {
			iamError(w, http.StatusBadRequest, "Sender", "ValidationError", "Invalid Marker.")
			return
		}
		offset = o
	}
	end := min(offset+size, len(entities))
	var b strings.Builder
	fmt.Fprintf(&b, `<GetAccountAuthorizationDetailsResponse xmlns="%s"><GetAccountAuthorizationDetailsResult>`, xmlns)
	b.WriteString("<UserDetailList>")
	for _, e := range entities[offset:end] {
		if u, ok := e.(User); ok {
			fmt.Fprintf(&b, "<member>%s%s%s<Path>/</Path>%s<GroupList>%s</GroupList><AttachedManagedPolicies>%s</AttachedManagedPolicies><UserPolicyList>%s</UserPolicyList></member>",
				elem("UserName", u.UserName), elem("UserId", "AIDA"+strings.ToUpper(hex.EncodeToString([]byte(u.UserName)))),
				elem("Arn", "arn:aws:iam::"+AccountID+":user/"+u.UserName), elem("CreateDate", u.CreateDate.UTC().Format(time.RFC3339)),
				members(u.Groups), attached(u.AttachedPolicies), inline(u.InlinePolicies))
		}
	}
	b.WriteString("</UserDetailList><GroupDetailList>")
	for _, e := range entities[offset:end] {
		if g, ok := e.(Group); ok {
			fmt.Fprintf(&b, "<member>%s%s%s<Path>/</Path><AttachedManagedPolicies>%s</AttachedManagedPolicies><GroupPolicyList>%s</GroupPolicyList></member>",
				elem("GroupName", g.GroupName), elem("GroupId", "AGPA"+strings.ToUpper(hex.EncodeToString([]byte(g.GroupName)))),
				elem("Arn", "arn:aws:iam::"+AccountID+":group/"+g.GroupName), attached(g.AttachedPolicies), inline(g.InlinePolicies))
		}
	}
	b.WriteString("</GroupDetailList><RoleDetailList/><Policies/>")
	if end < len(entities) {
		mk := vendorfake.RandomHex(16)
		s.markers[mk] = end
		fmt.Fprintf(&b, "<IsTruncated>true</IsTruncated>%s", elem("Marker", mk))
	} else {
		b.WriteString("<IsTruncated>false</IsTruncated>")
	}
	fmt.Fprintf(&b, "</GetAccountAuthorizationDetailsResult>%s</GetAccountAuthorizationDetailsResponse>", meta())
	writeXML(w, b.String())
}

func elem(name, value string) string {
	if value == "" {
		return ""
	}
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(value))
	return "<" + name + ">" + b.String() + "</" + name + ">"
}

func members(names []string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(elem("member", n))
	}
	return b.String()
}

func attached(ps []aws.Policy) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("<member>" + elem("PolicyName", p.Name) + elem("PolicyArn", p.ARN) + "</member>")
	}
	return b.String()
}

func inline(names []string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString("<member>" + elem("PolicyName", n) + elem("PolicyDocument", "%7B%7D") + "</member>")
	}
	return b.String()
}

func meta() string {
	return "<ResponseMetadata><RequestId>" + vendorfake.RandomHex(16) + "</RequestId></ResponseMetadata>"
}

func iamError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type>%s%s</Error><RequestId>%s</RequestId></ErrorResponse>`,
		xmlns, typ, elem("Code", code), elem("Message", msg), vendorfake.RandomHex(16))
}

func writeXML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, body)
}
