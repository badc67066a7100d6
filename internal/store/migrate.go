package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// migrationFS holds the schema, one file per step. Files are numbered by
// domain (0001 core, 0100 flows, 0200 posture, 0300 hooks, …) so that each
// domain's steps stay together; they are applied in name order.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// sqliteTypes maps the PostgreSQL column types the migrations use to SQLite's.
var sqliteTypes = strings.NewReplacer(
	"TIMESTAMPTZ", "TIMESTAMP",
	"BYTEA", "BLOB",
	"JSONB", "TEXT",
	"BIGSERIAL", "INTEGER",
	"DOUBLE PRECISION", "REAL",
)

// pgOnly and sqliteOnly mark lines that belong to one dialect:
// "-- postgres: CREATE INDEX …" runs on PostgreSQL only.
var dialectLine = regexp.MustCompile(`(?m)^\s*-- (postgres|sqlite): (.*)$`)

func (s *Store) rewrite(sqlText string) string {
	sqlText = dialectLine.ReplaceAllStringFunc(sqlText, func(line string) string {
		m := dialectLine.FindStringSubmatch(line)
		if m[1] == s.dialect.String() {
			return m[2]
		}
		return ""
	})
	if s.dialect == SQLite {
		return sqliteTypes.Replace(sqlText)
	}
	return sqlText
}

// Migrate brings the schema up to date: River's tables first, then Vigil's
// steps not yet applied, each in its own transaction. On PostgreSQL an
// advisory lock keeps two nodes starting together from migrating at once.
func (s *Store) Migrate(ctx context.Context) error {
	if s.dialect == Postgres {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7126353)`); err != nil {
			return fmt.Errorf("migrate: take the migration lock: %w", err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7126353)`); err != nil {
				// A connection that may still hold the lock must not go back
				// to the pool: ErrBadConn makes database/sql close it, which
				// releases the lock.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	if err := s.migrateRiver(ctx); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS vigil_migration (
		version TEXT PRIMARY KEY,
		applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: create the migration table: %w", err)
	}
	applied := map[string]bool{}
	err := s.c.query(ctx, `SELECT version FROM vigil_migration`, nil, func(r *sql.Rows) error {
		var v string
		if err := r.Scan(&v); err != nil {
			return err
		}
		applied[v] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: read applied versions: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		if applied[version] {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.InTx(ctx, func(tx *Tx) error {
			for _, stmt := range splitStatements(s.rewrite(string(body))) {
				if _, err := tx.tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%w\nstatement: %s", err, stmt)
				}
			}
			_, err := tx.c.exec(ctx, `INSERT INTO vigil_migration (version, applied_at) VALUES ($1, $2)`,
				version, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: step %s failed: %w", version, err)
		}
	}
	return nil
}

// MigrationVersions lists, in order, the schema steps this binary knows,
// so that a restore can refuse a database made by a newer Vigil.
func MigrationVersions() []string {
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	sort.Strings(names)
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
	}
	return out
}

// Migrated reports whether every embedded step has been applied; /readyz uses it.
func (s *Store) Migrated(ctx context.Context) (bool, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return false, err
	}
	var n int
	if err := s.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_migration`, nil, &n); err != nil {
		return false, err
	}
	return n >= len(names), nil
}

func (s *Store) migrateRiver(ctx context.Context) error {
	var err error
	switch s.dialect {
	case SQLite:
		var m *rivermigrate.Migrator[*sql.Tx]
		m, err = rivermigrate.New(riversqlite.New(s.db), nil)
		if err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	case Postgres:
		var m *rivermigrate.Migrator[*sql.Tx]
		m, err = rivermigrate.New(riverdatabasesql.New(s.db), &rivermigrate.Config{Schema: s.schema})
		if err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	}
	if err != nil {
		return fmt.Errorf("migrate: job queue tables: %w", err)
	}
	return nil
}

// splitStatements splits a migration file on semicolons at line ends. The
// migrations keep to that form (no semicolons inside strings or bodies).
func splitStatements(text string) []string {
	var out []string
	for _, part := range strings.Split(text, ";\n") {
		lines := strings.Split(part, "\n")
		keep := lines[:0]
		for _, l := range lines {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				keep = append(keep, l)
			}
		}
		if stmt := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.Join(keep, "\n")), ";")); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}
