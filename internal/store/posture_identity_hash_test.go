package store

import (
	"crypto/sha256"
	"strconv"
	"testing"
	"time"
)

// argsHash is how a row's hash was defined when rows first kept one: each
// value of its argument list but the last two, as personArgs and
// accountArgs give them, tagged with its type and followed by a zero byte,
// in one SHA-256. Hashes stored by that code must still match.
func argsHash(t *testing.T, args []any) rowSum {
	t.Helper()
	h := sha256.New()
	for _, v := range args[:len(args)-2] {
		var buf []byte
		switch v := v.(type) {
		case nil:
			buf = append(buf, 0)
		case string:
			buf = append(buf, 's')
			buf = strconv.AppendInt(buf, int64(len(v)), 10)
			buf = append(buf, ':')
			buf = append(buf, v...)
		case int:
			buf = strconv.AppendInt(append(buf, 'i'), int64(v), 10)
		case bool:
			buf = strconv.AppendBool(append(buf, 'b'), v)
		case time.Time:
			buf = append(buf, 't')
			if !v.IsZero() {
				buf = v.UTC().Truncate(time.Microsecond).AppendFormat(buf, timeFormat)
			}
		default:
			t.Fatalf("a %T in a row's arguments", v)
		}
		h.Write(append(buf, 0))
	}
	var sum rowSum
	copy(sum[:], h.Sum(nil))
	return sum
}

// TestRowHashesMatchTheStoredRows checks that the hashes a scan computes
// from the rows' structs are those of the columns it writes, for rows with
// and without a person, empty and set times, and every field different.
func TestRowHashesMatchTheStoredRows(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 15, 123456789, time.FixedZone("CET", 3600))
	scanned := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	people := []*IdentityPerson{
		{ID: "idn_1", EntityKey: "user:okta:t:1", Email: "a@example.com", DisplayName: "A B", Status: "active", Accounts: 3, LastLogin: at},
		{ID: "idn_2", EntityKey: "user:okta:t:2", Status: "suspended"},
	}
	accounts := []*IdentityAccount{
		{ID: "acc_1", PersonID: "idn_1", EntityKey: "k1", Source: "okta", Product: "Okta", Tenant: "t", IDInService: "1",
			Login: "a", Email: "a@example.com", DisplayName: "A B", Status: "active", Kind: "human", Privilege: "admin",
			PrivilegeReasons: `["Super Admin"]`, MFA: "enrolled", MFAFactors: `["push"]`, Root: true, CreatedAt: at,
			LastLogin: at.Add(time.Hour), PasswordChanged: at.Add(-time.Hour), Credentials: `[{"id":"k"}]`},
		{ID: "acc_2", EntityKey: "k2", Source: "aws", Product: "AWS", Tenant: "1", IDInService: "root", Status: "active",
			Kind: "service", Privilege: "none", PrivilegeReasons: "[]", MFAFactors: "[]", Credentials: "[]"},
	}
	personIDs, personSums := rowKeys(len(people), func(e *rowEncoder, i int) string {
		e.person(people[i])
		return people[i].ID
	})()
	for i, p := range people {
		if want := argsHash(t, personArgs(p, scanned, "")); personSums[i] != want {
			t.Errorf("person %s: hash %s, want %s", p.ID, personSums[i], want)
		}
	}
	rows := IdentityRowsOf(accounts)
	accountIDs, accountSums := rowKeys(rows.N, func(e *rowEncoder, i int) string {
		rows.Fill(i, &e.row)
		e.account(&e.row)
		return e.row.ID
	})()
	for i, a := range accounts {
		if want := argsHash(t, accountArgs(a, scanned, "")); accountSums[i] != want {
			t.Errorf("account %s: hash %s, want %s", a.ID, accountSums[i], want)
		}
	}
	if personIDs[1] != "idn_2" || accountIDs[1] != "acc_2" {
		t.Errorf("ids %q and %q, want the rows' own", personIDs, accountIDs)
	}
	if accountSums[0] == accountSums[1] || personSums[0] == personSums[1] {
		t.Error("different rows have the same hash")
	}
}
