package aws

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// RootUser is the user column of the root account's row.
const RootUser = "<root_account>"

// Status says what a credential-report cell holds: a value, or one of the
// words AWS writes instead of one.
type Status uint8

const (
	// Present means the cell holds a value.
	Present Status = iota
	// NotApplicable is "N/A": the credential does not exist (no password,
	// no access key) or was never used.
	NotApplicable
	// NoInformation is "no_information": used, but not since AWS began
	// tracking that field.
	NoInformation
	// NotSupported is "not_supported": the field does not apply to this
	// kind of user, as password fields on the root row.
	NotSupported
)

var statusWords = map[string]Status{"N/A": NotApplicable, "no_information": NoInformation, "not_supported": NotSupported}

// Time is a timestamp cell. Time is zero unless Status is Present.
type Time struct {
	Time   time.Time
	Status Status
}

// Valid says whether the cell holds a timestamp.
func (t Time) Valid() bool { return t.Status == Present }

// Bool is a true/false cell that may also hold a status word.
type Bool struct {
	Value  bool
	Status Status
}

// AccessKey is one of a user's two access key slots.
type AccessKey struct {
	Active      bool
	LastRotated Time
	// LastUsedDate is NotApplicable when the key was never used.
	LastUsedDate Time
	// LastUsedRegion and LastUsedService are empty when never used.
	LastUsedRegion  string
	LastUsedService string
}

// Certificate is one of a user's two signing certificate slots.
type Certificate struct {
	Active      bool
	LastRotated Time
}

// Row is one user of an IAM credential report.
type Row struct {
	// Line is the row's line in the CSV, for messages.
	Line int
	// User is the IAM user name, or RootUser for the root account.
	User string
	ARN  string
	// UserCreationTime is when the user (or the account, for root) was made.
	UserCreationTime time.Time
	// PasswordEnabled is NotSupported on the root row.
	PasswordEnabled Bool
	// PasswordLastUsed is NotApplicable without a password and
	// NoInformation when last used before AWS tracked it.
	PasswordLastUsed     Time
	PasswordLastChanged  Time
	PasswordNextRotation Time
	MFAActive            bool
	AccessKeys           [2]AccessKey
	Certificates         [2]Certificate
}

// IsRoot says whether r is the root account's row.
func (r Row) IsRoot() bool { return r.User == RootUser }

// columns are the report's columns, in AWS's order.
var columns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// ParseCredentialReport reads a credential report CSV. Columns are found by
// their header names, so a report with extra or reordered columns reads the
// same; a missing column, a row with the wrong number of fields or a value
// that is neither what the column holds nor one of AWS's status words is an
// error naming the line.
func ParseCredentialReport(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("aws: the credential report is empty")
	}
	if err != nil {
		return nil, csvError(err)
	}
	index := map[string]int{}
	for i, name := range header {
		index[strings.TrimPrefix(strings.TrimSpace(name), "\ufeff")] = i
	}
	for _, name := range columns {
		if _, ok := index[name]; !ok {
			return nil, fmt.Errorf("aws: credential report line 1: the column %q is missing", name)
		}
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		p := rowParser{rec: rec, index: index, line: line}
		row := p.row()
		if p.err != nil {
			return nil, p.err
		}
		rows = append(rows, row)
	}
}

// ReadCredentialReportFile reads a credential report saved to a file, such as
// the output of aws iam get-credential-report decoded from base64.
func ReadCredentialReportFile(path string) ([]Row, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the admin names the report file to read
	if err != nil {
		return nil, fmt.Errorf("aws: read credential report: %w", err)
	}
	return ParseCredentialReport(bytes.NewReader(data))
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("aws: credential report line %d: %w", pe.Line, pe.Err)
	}
	return fmt.Errorf("aws: read credential report: %w", err)
}

// rowParser reads the cells of one row, keeping the first error.
type rowParser struct {
	rec   []string
	index map[string]int
	line  int
	err   error
}

func (p *rowParser) row() Row {
	r := Row{Line: p.line, User: p.cell("user"), ARN: p.cell("arn"),
		PasswordEnabled: p.bool("password_enabled"), PasswordLastUsed: p.time("password_last_used"),
		PasswordLastChanged: p.time("password_last_changed"), PasswordNextRotation: p.time("password_next_rotation"),
		MFAActive: p.plainBool("mfa_active")}
	created := p.time("user_creation_time")
	if p.err == nil && !created.Valid() {
		p.fail("user_creation_time", "is not a timestamp")
	}
	r.UserCreationTime = created.Time
	if p.err == nil && r.User == "" {
		p.fail("user", "is empty")
	}
	for i := range r.AccessKeys {
		k := fmt.Sprintf("access_key_%d_", i+1)
		r.AccessKeys[i] = AccessKey{Active: p.plainBool(k + "active"), LastRotated: p.time(k + "last_rotated"),
			LastUsedDate: p.time(k + "last_used_date"), LastUsedRegion: p.text(k + "last_used_region"),
			LastUsedService: p.text(k + "last_used_service")}
	}
	for i := range r.Certificates {
		k := fmt.Sprintf("cert_%d_", i+1)
		r.Certificates[i] = Certificate{Active: p.plainBool(k + "active"), LastRotated: p.time(k + "last_rotated")}
	}
	return r
}

func (p *rowParser) cell(col string) string { return strings.TrimSpace(p.rec[p.index[col]]) }

func (p *rowParser) fail(col, what string) {
	if p.err == nil {
		p.err = fmt.Errorf("aws: credential report line %d: the %s value %q %s", p.line, col, p.cell(col), what)
	}
}

// text reads a free-text cell, with status words read as empty.
func (p *rowParser) text(col string) string {
	v := p.cell(col)
	if _, ok := statusWords[v]; ok {
		return ""
	}
	return v
}

func (p *rowParser) time(col string) Time {
	v := p.cell(col)
	if s, ok := statusWords[v]; ok {
		return Time{Status: s}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		p.fail(col, "is not a timestamp")
		return Time{Status: NotApplicable}
	}
	return Time{Time: t.UTC()}
}

func (p *rowParser) bool(col string) Bool {
	v := p.cell(col)
	if s, ok := statusWords[v]; ok {
		return Bool{Status: s}
	}
	switch v {
	case "true":
		return Bool{Value: true}
	case "false":
		return Bool{}
	}
	p.fail(col, "is not true or false")
	return Bool{}
}

// plainBool reads a cell that AWS always fills with true or false.
func (p *rowParser) plainBool(col string) bool {
	b := p.bool(col)
	if b.Status != Present {
		p.fail(col, "is not true or false")
	}
	return b.Value
}
