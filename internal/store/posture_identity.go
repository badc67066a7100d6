package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IdentityPerson is a person of the identity inventory.
type IdentityPerson struct {
	ID          string
	EntityKey   string
	Email       string
	DisplayName string
	// Status is the most alive status of the person's primary accounts.
	Status string
	// Accounts counts the person's accounts in every source.
	Accounts int
	// LastLogin is the latest sign-in of any of the accounts.
	LastLogin time.Time
	ScannedAt time.Time
	// OpenIssues counts the open issues of the person and their accounts
	// (filled by lists and IdentityPersonByID).
	OpenIssues int
}

// IdentityAccount is an account of the identity inventory. The JSON
// fields hold lists as the scan read them.
type IdentityAccount struct {
	ID               string
	PersonID         string
	EntityKey        string
	Source           string
	Product          string
	Tenant           string
	IDInService      string
	Login            string
	Email            string
	DisplayName      string
	Status           string
	Kind             string
	Privilege        string
	PrivilegeReasons string
	MFA              string
	MFAFactors       string
	Root             bool
	CreatedAt        time.Time
	LastLogin        time.Time
	PasswordChanged  time.Time
	Credentials      string
	ScannedAt        time.Time
	// PersonName is the display name of the account's person (lists).
	PersonName string
	// OpenIssues counts the account's open issues (lists).
	OpenIssues int
}

// IdentityFilter selects people or accounts. An account-level condition
// selects, for people, those with at least one account meeting every
// account-level condition at once: privileged with mfa none is a person
// with an admin account that has no MFA, not an admin who lacks MFA
// somewhere else.
type IdentityFilter struct {
	// Search matches names, emails and logins, ignoring case.
	Search string
	// Source is a source's name (an account read from it).
	Source string
	// Privileged, when set, asks for an active account with (true) or
	// without (false) an admin or global admin role.
	Privileged *bool
	// MFA is none, pending, enrolled or unknown: an active human account
	// in that state. Service accounts do not sign in interactively, so
	// MFA does not apply to them, as in the detection catalog.
	MFA string
	// Kind is human or service.
	Kind string
	// Status is an account status: active, staged, suspended,
	// deprovisioned.
	Status string
	// InactiveBefore asks for an active account not signed in since then
	// (or never); ActiveSince for one signed in since then.
	InactiveBefore time.Time
	ActiveSince    time.Time
	// MinIssues asks for at least this many open issues.
	MinIssues int
	// PersonID selects a person's accounts (Accounts only).
	PersonID string
	// Limit defaults to 50; Offset skips rows.
	Limit, Offset int
	// Sort orders people by a key of IdentityPeopleSorts, or accounts by
	// a key of IdentityAccountSorts, ascending unless Desc; "" keeps the
	// order by name. Ties go by id.
	Sort string
	Desc bool
}

// IdentityPeopleSorts and IdentityAccountSorts are the columns the people
// and account lists can be sorted by, under the names a request uses. Only
// these expressions reach ORDER BY. A missing last sign-in sorts as the
// oldest on both databases (SQLite and PostgreSQL place NULLs differently).
// Open issues are not sortable: they are counted per row shown, and
// sorting by them would count them for every person (seconds at 100,000).
var (
	IdentityPeopleSorts = map[string]string{
		"name": "p.display_name", "email": "p.email", "status": "p.status", "accounts": "p.accounts",
		"lastLogin": "CASE WHEN p.last_login IS NULL THEN 0 ELSE 1 END %[1]s, p.last_login",
	}
	IdentityAccountSorts = map[string]string{
		"account": "a.display_name", "person": "COALESCE(p.display_name, '')", "source": "a.source", "type": "a.kind",
		"privilege": "a.privilege", "mfa": "a.mfa", "status": "a.status",
		"lastLogin": "CASE WHEN a.last_login IS NULL THEN 0 ELSE 1 END %[1]s, a.last_login",
	}
)

// order is the ORDER BY of f's page: def unless f.Sort names a key of
// sorts, then by id (of alias) in the same direction.
func (f *IdentityFilter) order(sorts map[string]string, def, alias string) (string, error) {
	if f.Sort == "" {
		return def, nil
	}
	expr, ok := sorts[f.Sort]
	if !ok {
		return "", fmt.Errorf("store: cannot sort by %q", f.Sort)
	}
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	if strings.Contains(expr, "%[1]s") {
		expr = fmt.Sprintf(expr, dir)
	}
	return expr + " " + dir + ", " + alias + ".id " + dir, nil
}

type condBuilder struct {
	conds []string
	args  []any
}

func (b *condBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *condBuilder) add(cond string) { b.conds = append(b.conds, cond) }

// accountConds adds f's account-level conditions on the account alias a.
func (f *IdentityFilter) accountConds(b *condBuilder, a string) {
	if f.Source != "" {
		b.add(a + ".source = " + b.arg(f.Source))
	}
	if f.Privileged != nil {
		if *f.Privileged {
			b.add(a + ".status = 'active' AND " + a + ".privilege IN ('admin', 'global_admin')")
		} else {
			b.add(a + ".privilege = 'none'")
		}
	}
	if f.MFA != "" {
		m := f.MFA
		if m == "unknown" {
			m = ""
		}
		b.add(a + ".status = 'active' AND " + a + ".kind = 'human' AND " + a + ".mfa = " + b.arg(m))
	}
	if f.Kind != "" {
		b.add(a + ".kind = " + b.arg(f.Kind))
	}
	if f.Status != "" {
		b.add(a + ".status = " + b.arg(f.Status))
	}
	if !f.InactiveBefore.IsZero() {
		b.add(a + ".status = 'active' AND (" + a + ".last_login IS NULL OR " + a + ".last_login < " + b.arg(f.InactiveBefore) + ")")
	}
	if !f.ActiveSince.IsZero() {
		b.add(a + ".last_login >= " + b.arg(f.ActiveSince))
	}
}

func (f *IdentityFilter) search(b *condBuilder, cols ...string) {
	s := strings.TrimSpace(f.Search)
	if s == "" {
		return
	}
	mark := b.arg("%" + escapeLike(strings.ToLower(s)) + "%")
	var ors []string
	for _, c := range cols {
		ors = append(ors, "LOWER("+c+") LIKE "+mark+` ESCAPE '\'`)
	}
	b.add("(" + strings.Join(ors, " OR ") + ")")
}

func (f *IdentityFilter) page() string {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", limit, max(f.Offset, 0))
}

// personIssues counts the open issues of person p and of its accounts.
// Two counts added, so that each reads the index on (entity_key, status).
const personIssues = `((SELECT COUNT(*) FROM vigil_posture_issue i WHERE i.entity_key = p.entity_key AND i.status = 'open')
	+ (SELECT COUNT(*) FROM vigil_identity_account x JOIN vigil_posture_issue i ON i.entity_key = x.entity_key AND i.status = 'open'
	   WHERE x.person_id = p.id))`

// accountIssues counts the open issues of account a.
const accountIssues = `(SELECT COUNT(*) FROM vigil_posture_issue i WHERE i.entity_key = a.entity_key AND i.status = 'open')`

// inventoryScannedAt is the time of the scan the inventory is as of
// (migration 0250 keeps it once); before that, each row's own.
const inventoryScannedAt = `COALESCE((SELECT v.scanned_at FROM vigil_identity_inventory v WHERE v.id = 1), %s.scanned_at)`

var identityPersonCols = `p.id, p.entity_key, p.email, p.display_name, p.status, p.accounts, p.last_login, ` +
	fmt.Sprintf(inventoryScannedAt, "p") + `, ` + personIssues

func scanIdentityPerson(scan func(...any) error) (*IdentityPerson, error) {
	var p IdentityPerson
	err := scan(&p.ID, &p.EntityKey, &p.Email, &p.DisplayName, &p.Status, &p.Accounts, scanTime(&p.LastLogin),
		scanTime(&p.ScannedAt), &p.OpenIssues)
	return &p, err
}

// IdentityPeople returns one page of the people f selects, by name, and
// how many it selects in all.
func (q *Queries) IdentityPeople(ctx context.Context, f IdentityFilter) ([]*IdentityPerson, int, error) {
	b := &condBuilder{}
	f.search(b, "p.display_name", "p.email")
	ab := &condBuilder{args: b.args}
	f.accountConds(ab, "a")
	b.args = ab.args
	if len(ab.conds) > 0 {
		// One uncorrelated subquery, read once through the accounts'
		// filter index: a correlated EXISTS made SQLite scan every
		// matching account again for each of 100,000 people.
		b.add("p.id IN (SELECT a.person_id FROM vigil_identity_account a WHERE a.person_id IS NOT NULL AND " + strings.Join(ab.conds, " AND ") + ")")
	}
	if f.MinIssues > 0 {
		b.add(personIssues + " >= " + b.arg(f.MinIssues))
	}
	where := whereOf(b.conds)
	var total int
	if err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_identity_person p `+where, b.args, &total); err != nil {
		return nil, 0, err
	}
	order, err := f.order(IdentityPeopleSorts, "p.display_name, p.id", "p")
	if err != nil {
		return nil, 0, err
	}
	// The page's ids are chosen first, on the order's columns alone; only
	// those rows are read whole and have their open issues counted, which
	// the database would otherwise do for every row it sorts.
	var out []*IdentityPerson
	err = q.c.query(ctx, `SELECT `+identityPersonCols+` FROM vigil_identity_person p WHERE p.id IN (SELECT p.id FROM vigil_identity_person p `+
		where+` ORDER BY `+order+f.page()+`) ORDER BY `+order, b.args, func(r *sql.Rows) error {
		p, err := scanIdentityPerson(r.Scan)
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, total, err
}

// IdentityPerson returns the person with this id, or ErrNotFound.
func (q *Queries) IdentityPerson(ctx context.Context, id string) (*IdentityPerson, error) {
	var p *IdentityPerson
	err := q.c.query(ctx, `SELECT `+identityPersonCols+` FROM vigil_identity_person p WHERE p.id = $1`, []any{id},
		func(r *sql.Rows) error {
			var err error
			p, err = scanIdentityPerson(r.Scan)
			return err
		})
	if err == nil && p == nil {
		err = ErrNotFound
	}
	return p, err
}

var identityAccountCols = `a.id, COALESCE(a.person_id, ''), a.entity_key, a.source, a.product, a.tenant, a.id_in_service, a.login,
	a.email, a.display_name, a.status, a.kind, a.privilege, a.privilege_reasons, a.mfa, a.mfa_factors, a.root, a.created_at,
	a.last_login, a.password_changed, a.credentials, ` + fmt.Sprintf(inventoryScannedAt, "a") + `, COALESCE(p.display_name, ''), ` + accountIssues

// IdentityAccounts returns one page of the accounts f selects, by source
// and name, and how many it selects in all.
func (q *Queries) IdentityAccounts(ctx context.Context, f IdentityFilter) ([]*IdentityAccount, int, error) {
	b := &condBuilder{}
	f.search(b, "a.display_name", "a.email", "a.login")
	f.accountConds(b, "a")
	if f.PersonID != "" {
		b.add("a.person_id = " + b.arg(f.PersonID))
	}
	if f.MinIssues > 0 {
		b.add(accountIssues + " >= " + b.arg(f.MinIssues))
	}
	where := whereOf(b.conds)
	var total int
	if err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_identity_account a `+where, b.args, &total); err != nil {
		return nil, 0, err
	}
	order, err := f.order(IdentityAccountSorts, "a.source, a.display_name, a.id", "a")
	if err != nil {
		return nil, 0, err
	}
	var out []*IdentityAccount
	// As for people: the page's ids first, then only those rows whole.
	err = q.c.query(ctx, `SELECT `+identityAccountCols+` FROM vigil_identity_account a
		LEFT JOIN vigil_identity_person p ON p.id = a.person_id WHERE a.id IN (SELECT a.id FROM vigil_identity_account a
		LEFT JOIN vigil_identity_person p ON p.id = a.person_id `+where+` ORDER BY `+order+f.page()+`) ORDER BY `+order, b.args,
		func(r *sql.Rows) error {
			var a IdentityAccount
			if err := r.Scan(&a.ID, &a.PersonID, &a.EntityKey, &a.Source, &a.Product, &a.Tenant, &a.IDInService, &a.Login,
				&a.Email, &a.DisplayName, &a.Status, &a.Kind, &a.Privilege, &a.PrivilegeReasons, &a.MFA, &a.MFAFactors, &a.Root,
				scanTime(&a.CreatedAt), scanTime(&a.LastLogin), scanTime(&a.PasswordChanged), &a.Credentials, scanTime(&a.ScannedAt),
				&a.PersonName, &a.OpenIssues); err != nil {
				return err
			}
			out = append(out, &a)
			return nil
		})
	return out, total, err
}

// IdentityIssue is an issue of a person or of one of their accounts, as
// the person page lists it.
type IdentityIssue struct {
	ID         string
	Title      string
	Severity   string
	Status     string
	EntityKey  string
	Product    string
	DetectedAt time.Time
}

// IdentityIssues lists the issues, in every status, of a person and of
// their accounts, most severe and newest first.
func (q *Queries) IdentityIssues(ctx context.Context, personID string) ([]*IdentityIssue, error) {
	var out []*IdentityIssue
	err := q.c.query(ctx, `SELECT i.id, i.title, i.severity, i.status, i.entity_key, i.product, i.detected_at FROM vigil_posture_issue i
		WHERE i.entity_key IN (SELECT entity_key FROM vigil_identity_person WHERE id = $1
			UNION SELECT entity_key FROM vigil_identity_account WHERE person_id = $1)
		ORDER BY i.severity_rank DESC, i.detected_at DESC, i.id DESC LIMIT 500`, []any{personID}, func(r *sql.Rows) error {
		var i IdentityIssue
		if err := r.Scan(&i.ID, &i.Title, &i.Severity, &i.Status, &i.EntityKey, &i.Product, scanTime(&i.DetectedAt)); err != nil {
			return err
		}
		out = append(out, &i)
		return nil
	})
	return out, err
}
