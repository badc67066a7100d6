package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IdentitySync counts what SyncIdentities wrote.
type IdentitySync struct {
	// Written are the rows inserted or changed, Deleted those removed;
	// rows found unchanged are not written at all.
	Written, Deleted int
}

// identityPersonWrite and identityAccountWrite are the columns a scan
// writes, in the order personArgs and accountArgs give them.
var (
	identityPersonWrite = []string{"id", "entity_key", "email", "display_name", "status", "accounts", "last_login",
		"scanned_at", "row_hash"}
	identityAccountWrite = []string{"id", "person_id", "entity_key", "source", "product", "tenant", "id_in_service", "login",
		"email", "display_name", "status", "kind", "privilege", "privilege_reasons", "mfa", "mfa_factors", "root",
		"created_at", "last_login", "password_changed", "credentials", "scanned_at", "row_hash"}
)

// IdentityRows are the people or the accounts of an inventory, made on
// demand: Fill sets row, zeroed, to the ith of N. SyncIdentities calls
// Fill from several goroutines at once, each with a row of its own, and
// again for each row it writes, so Fill must give the same row for the
// same i. A scan thus never holds a row for every identity beside the
// graph the rows are made from: at a million accounts the rows alone were
// most of the live heap, and the graph and the rows together set the
// process's peak.
type IdentityRows[T IdentityPerson | IdentityAccount] struct {
	N    int
	Fill func(i int, row *T)
}

// IdentityRowsOf gives the rows of a slice as IdentityRows.
func IdentityRowsOf[T IdentityPerson | IdentityAccount](rows []*T) IdentityRows[T] {
	return IdentityRows[T]{N: len(rows), Fill: func(i int, row *T) { *row = *rows[i] }}
}

// SyncIdentities makes the inventory hold exactly people and accounts, as
// of the scan at scannedAt, and writes only the difference: rows whose
// columns are as stored are left alone (a scan that finds nothing changed
// writes one row), new and changed rows are written many to a statement,
// and rows no longer found are deleted. A row's ScannedAt is ignored: the
// time the inventory is as of is kept once and read back into every row.
// Call it in the scan's transaction, so that identities and their issues
// always come from the same scan.
//
// No constraint ties an account to its person; this order does: people
// are written before the accounts naming them, and an account whose
// person is gone is rewritten (without a person) or deleted before the
// person is.
func (q *Queries) SyncIdentities(ctx context.Context, people IdentityRows[IdentityPerson], accounts IdentityRows[IdentityAccount], scannedAt time.Time) (IdentitySync, error) {
	var sum IdentitySync
	personKeys := rowKeys(people.N, func(e *rowEncoder, i int) string {
		e.personRow = IdentityPerson{}
		people.Fill(i, &e.personRow)
		e.person(&e.personRow)
		return e.personRow.ID
	})
	accountKeys := rowKeys(accounts.N, func(e *rowEncoder, i int) string {
		e.row = IdentityAccount{}
		accounts.Fill(i, &e.row)
		e.account(&e.row)
		return e.row.ID
	})
	personIDs, personHash, writePeople, gonePeople, storedPeople, err := q.identityDiff(ctx, "vigil_identity_person", personKeys)
	if err != nil {
		return sum, fmt.Errorf("compare the stored people: %w", err)
	}
	accountIDs, accountHash, writeAccounts, goneAccounts, storedAccounts, err := q.identityDiff(ctx, "vigil_identity_account", accountKeys)
	if err != nil {
		return sum, fmt.Errorf("compare the stored accounts: %w", err)
	}
	// In id order, a table's rows and its primary key index grow at their
	// end instead of everywhere at once (see loadRows).
	slices.SortFunc(writePeople, func(a, b int) int { return strings.Compare(personIDs[a], personIDs[b]) })
	slices.SortFunc(writeAccounts, func(a, b int) int { return strings.Compare(accountIDs[a], accountIDs[b]) })
	// People first and gone people last: an account names its person.
	var person IdentityPerson // upsertRows makes one statement's values at a time
	err = q.loadRows(ctx, "vigil_identity_person", storedPeople, len(writePeople), func() error {
		return q.upsertRows(ctx, "vigil_identity_person", identityPersonWrite, writePeople, func(i int) []any {
			person = IdentityPerson{}
			people.Fill(i, &person)
			return personArgs(&person, scannedAt, personHash[i].String())
		})
	})
	if err != nil {
		return sum, fmt.Errorf("store people: %w", err)
	}
	var row IdentityAccount // upsertRows makes one statement's values at a time
	err = q.loadRows(ctx, "vigil_identity_account", storedAccounts, len(writeAccounts), func() error {
		return q.upsertRows(ctx, "vigil_identity_account", identityAccountWrite, writeAccounts, func(i int) []any {
			row = IdentityAccount{}
			accounts.Fill(i, &row)
			return accountArgs(&row, scannedAt, accountHash[i].String())
		})
	})
	if err != nil {
		return sum, fmt.Errorf("store accounts: %w", err)
	}
	if err := q.deleteByID(ctx, "vigil_identity_account", goneAccounts); err != nil {
		return sum, fmt.Errorf("delete accounts no longer found: %w", err)
	}
	if err := q.deleteByID(ctx, "vigil_identity_person", gonePeople); err != nil {
		return sum, fmt.Errorf("delete people no longer found: %w", err)
	}
	if _, err := q.c.exec(ctx, `INSERT INTO vigil_identity_inventory (id, scanned_at) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET scanned_at = excluded.scanned_at`, scannedAt); err != nil {
		return sum, fmt.Errorf("store the inventory's scan time: %w", err)
	}
	sum.Written = len(writePeople) + len(writeAccounts)
	sum.Deleted = len(gonePeople) + len(goneAccounts)
	return sum, nil
}

// identityDiff compares the rows of table with the rows a scan found,
// whose ids and hashes keys returns (by index): it returns those, the
// indexes of the rows to write (new, or whose hash differs from the
// stored one) and the stored ids to delete, in order. Only ids and hashes
// are read, so that a scan holds one copy of the inventory; they are read
// while keys is still hashing the scan's rows.
func (q *Queries) identityDiff(ctx context.Context, table string, keys func() ([]string, []rowSum)) (ids []string, sums []rowSum, write []int, gone []string, stored int, err error) {
	type storedSum struct {
		sum rowSum
		ok  bool // the stored hash parses
	}
	have := map[string]storedSum{}
	err = q.c.query(ctx, `SELECT id, row_hash FROM `+table, nil, func(r *sql.Rows) error {
		var id, h string
		if err := r.Scan(&id, &h); err != nil {
			return err
		}
		stored++
		var s storedSum
		s.ok = hex.DecodedLen(len(h)) == len(s.sum) && decodeHex(s.sum[:], h)
		have[id] = s
		return nil
	})
	if err != nil {
		keys() // let the hashing end before the rows go
		return nil, nil, nil, nil, 0, err
	}
	ids, sums = keys()
	for i, id := range ids {
		s, found := have[id]
		if !found || !s.ok || s.sum != sums[i] {
			write = append(write, i)
		}
		delete(have, id)
	}
	for id := range have {
		gone = append(gone, id)
	}
	slices.Sort(gone)
	return ids, sums, write, gone, stored, nil
}

// bulkLoadRows is how many rows a write into an empty table needs before
// loadRows builds the table's indexes after it rather than during it. A
// schema change makes every connection prepare its statements again, so
// small writes keep their indexes.
const bulkLoadRows = 5_000

// loadRows runs write, which writes n rows into table, which held stored
// rows. On SQLite, when the table was empty and n is at least
// bulkLoadRows (a first scan), the table's own indexes are dropped before
// and created again after, from their stored definitions, in the same
// transaction. SQLite builds an index from sorted keys in one pass; kept
// during the write, each row went into each index at a random place, and
// those B-tree inserts and their page splits, with each changed page
// copied into the statement journal of every multi-row insert, were most
// of a first scan's CPU. PostgreSQL keeps its indexes: dropping one locks
// the table against the readers of the console until the scan commits.
func (q *Queries) loadRows(ctx context.Context, table string, stored, n int, write func() error) error {
	if q.d != SQLite || stored > 0 || n < bulkLoadRows {
		return write()
	}
	type index struct{ name, sql string }
	var indexes []index
	// Indexes a constraint made (a primary key's) have no sql and stay.
	err := q.c.query(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL
		ORDER BY name`, []any{table}, func(r *sql.Rows) error {
		var ix index
		if err := r.Scan(&ix.name, &ix.sql); err != nil {
			return err
		}
		indexes = append(indexes, ix)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the indexes of %s: %w", table, err)
	}
	for _, ix := range indexes {
		if _, err := q.c.exec(ctx, `DROP INDEX `+ix.name); err != nil {
			return fmt.Errorf("drop index %s for the load: %w", ix.name, err)
		}
	}
	if err := write(); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := q.c.exec(ctx, ix.sql); err != nil {
			return fmt.Errorf("create index %s again: %w", ix.name, err)
		}
	}
	return nil
}

// rowKeys starts reading the ids and hashes of n rows, the ith encoded
// by key(e, i) (see rowEncoder), which returns its id, and returns a
// function that waits for them. The rows are shared among as many
// goroutines as the process has processors, beside the reading of the
// stored hashes: a rescan that finds nothing changed still hashes every
// row of the inventory.
func rowKeys(n int, key func(e *rowEncoder, i int) string) func() ([]string, []rowSum) {
	ids := make([]string, n)
	sums := make([]rowSum, n)
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), n/1000))
	per := (n + workers - 1) / workers
	for start := 0; start < n; start += per {
		wg.Go(func() {
			e := &rowEncoder{h: sha256.New()}
			for i := start; i < min(start+per, n); i++ {
				e.buf = e.buf[:0]
				ids[i] = key(e, i)
				sums[i] = e.sum()
			}
		})
	}
	return sync.OnceValues(func() ([]string, []rowSum) {
		wg.Wait()
		return ids, sums
	})
}

// personArgs and accountArgs are a row's values in the order of
// identityPersonWrite and identityAccountWrite.
func personArgs(p *IdentityPerson, scannedAt time.Time, hash string) []any {
	return []any{p.ID, p.EntityKey, p.Email, p.DisplayName, p.Status, p.Accounts, p.LastLogin, scannedAt, hash}
}

func accountArgs(a *IdentityAccount, scannedAt time.Time, hash string) []any {
	return []any{a.ID, nullString(a.PersonID), a.EntityKey, a.Source, a.Product, a.Tenant, a.IDInService, a.Login, a.Email,
		a.DisplayName, a.Status, a.Kind, a.Privilege, a.PrivilegeReasons, a.MFA, a.MFAFactors, a.Root, a.CreatedAt,
		a.LastLogin, a.PasswordChanged, a.Credentials, scannedAt, hash}
}

// rowSum is a row's hash (see rowHash); the row_hash column holds it in
// hex. A scan keeps one per row of the inventory, so not as a string.
type rowSum [16]byte

func (r rowSum) String() string { return hex.EncodeToString(r[:]) }

// decodeHex decodes the hex h into dst, reporting whether it could.
func decodeHex(dst []byte, h string) bool {
	_, err := hex.Decode(dst, []byte(h))
	return err == nil
}

// rowEncoder encodes a row's values, but the scan time and the hash
// itself, for its hash: each value tagged with its type, a string with
// its length, and followed by a zero byte; a time as the database stores
// it. It reads the columns from the row's struct, in the order of
// personArgs and accountArgs, rather than from their argument list: at a
// million accounts the boxed values of those lists were most of the
// garbage that set the Go heap's high-water mark in a first scan. Rows
// stored earlier keep their hashes, so the encoding must not change.
type rowEncoder struct {
	h   hash.Hash
	buf []byte
	// row and personRow are where an account or a person is made to be
	// encoded.
	row       IdentityAccount
	personRow IdentityPerson
}

func (e *rowEncoder) person(p *IdentityPerson) {
	e.str(p.ID)
	e.str(p.EntityKey)
	e.str(p.Email)
	e.str(p.DisplayName)
	e.str(p.Status)
	e.num(p.Accounts)
	e.at(p.LastLogin)
}

func (e *rowEncoder) account(a *IdentityAccount) {
	e.str(a.ID)
	if a.PersonID == "" { // nullString
		e.null()
	} else {
		e.str(a.PersonID)
	}
	for _, v := range []string{a.EntityKey, a.Source, a.Product, a.Tenant, a.IDInService, a.Login, a.Email,
		a.DisplayName, a.Status, a.Kind, a.Privilege, a.PrivilegeReasons, a.MFA, a.MFAFactors} {
		e.str(v)
	}
	e.flag(a.Root)
	e.at(a.CreatedAt)
	e.at(a.LastLogin)
	e.at(a.PasswordChanged)
	e.str(a.Credentials)
}

func (e *rowEncoder) null() { e.buf = append(e.buf, 0, 0) }

func (e *rowEncoder) str(v string) {
	e.buf = append(e.buf, 's')
	e.buf = strconv.AppendInt(e.buf, int64(len(v)), 10)
	e.buf = append(e.buf, ':')
	e.buf = append(append(e.buf, v...), 0)
}

func (e *rowEncoder) num(v int) {
	e.buf = append(strconv.AppendInt(append(e.buf, 'i'), int64(v), 10), 0)
}

func (e *rowEncoder) flag(v bool) { e.buf = append(strconv.AppendBool(append(e.buf, 'b'), v), 0) }

func (e *rowEncoder) at(v time.Time) {
	e.buf = append(e.buf, 't')
	if !v.IsZero() {
		e.buf = v.UTC().Truncate(time.Microsecond).AppendFormat(e.buf, timeFormat)
	}
	e.buf = append(e.buf, 0)
}

// sum hashes the values encoded.
func (e *rowEncoder) sum() rowSum {
	e.h.Reset()
	e.h.Write(e.buf)
	var full [sha256.Size]byte
	var sum rowSum
	copy(sum[:], e.h.Sum(full[:0]))
	return sum
}

// bulkParams bounds the parameters of one multi-row statement, below
// SQLite's limit of 32,766 and PostgreSQL's of 65,535. As many as SQLite
// takes: each statement ends by cutting its statement journal back, which
// walks the transaction's whole in-memory journal, and at a million
// accounts those walks were seconds of a first scan's save.
const bulkParams = 32_000

// upsertRows writes the rows at indexes rows of table, inserting each or,
// when its id exists, replacing its columns, many rows to a statement.
func (q *Queries) upsertRows(ctx context.Context, table string, cols []string, rows []int, args func(i int) []any) error {
	var set []string
	for _, c := range cols[1:] {
		set = append(set, c+" = excluded."+c)
	}
	return q.insertRows(ctx, table, cols, len(rows), func(k int) []any { return args(rows[k]) },
		` ON CONFLICT (id) DO UPDATE SET `+strings.Join(set, ", "))
}

// insertRows inserts n rows into table, the kth with the values args(k)
// in the order of cols, many rows to a statement that ends with tail.
// Each statement's text and values are made on another goroutine while
// the one before runs: on SQLite the statements run one at a time on the
// transaction's connection, and making the values (a scan's rows, their
// times formatted) took a sixth of a first scan's save off the other
// processor's hands.
func (q *Queries) insertRows(ctx context.Context, table string, cols []string, n int, args func(k int) []any, tail string) error {
	per := max(1, bulkParams/len(cols))
	head := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES `
	type statement struct {
		text string
		vals []any
	}
	// Every statement but the last has per rows, and the same text.
	var full string
	text := func(rows int) string {
		if rows == per && full != "" {
			return full
		}
		var sb strings.Builder
		sb.WriteString(head)
		for k := range rows {
			if k > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for c := range cols {
				if c > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString(q.mark(k*len(cols) + c + 1))
			}
			sb.WriteByte(')')
		}
		sb.WriteString(tail)
		if rows == per {
			full = sb.String()
			return full
		}
		return sb.String()
	}
	stop := make(chan struct{})
	next := make(chan statement, 1)
	go func() {
		defer close(next)
		for start := 0; start < n; start += per {
			end := min(start+per, n)
			vals := make([]any, 0, (end-start)*len(cols))
			for k := start; k < end; k++ {
				vals = append(vals, args(k)...)
			}
			select {
			case next <- statement{text(end - start), q.c.args(vals)}:
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		for range next { // wait for the maker to end
		}
	}()
	for st := range next {
		if _, err := q.c.exec(ctx, st.text, st.vals...); err != nil {
			return err
		}
	}
	return nil
}

// deleteByID deletes the rows of table with these ids, many to a statement.
func (q *Queries) deleteByID(ctx context.Context, table string, ids []string) error {
	for start := 0; start < len(ids); start += maxInList {
		marks, args := q.inList(ids[start:min(start+maxInList, len(ids))], 1)
		if _, err := q.c.exec(ctx, `DELETE FROM `+table+` WHERE id IN (`+marks+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}
