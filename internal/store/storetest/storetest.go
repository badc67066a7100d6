// Package storetest gives tests a fresh, migrated database of each kind.
//
// Every test that touches storage runs once on SQLite (a file in t.TempDir)
// and once on PostgreSQL (a throwaway schema in the server named by
// VIGIL_TEST_POSTGRES_URL, which ./scripts/test starts). There is no mocked
// database: what passes here passes on the real thing.
package storetest

import (
	"context"
	"database/sql"
	neturl "net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for the admin connection

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// EnvPostgres names the variable holding the test PostgreSQL server's URL.
const EnvPostgres = "VIGIL_TEST_POSTGRES_URL"

// Each runs fn as two subtests, "sqlite" and "postgres", each with its own
// freshly migrated store. It fails (never skips) when PostgreSQL is not
// configured, so a green run always means both databases were exercised.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a migrated store on a new SQLite file, closed when t ends.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	return open(t, store.Config{URL: "sqlite://" + filepath.Join(t.TempDir(), "vigil.db")})
}

// PostgresURL returns the test server's URL or fails the test with the way to get one.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPostgres)
	if u == "" {
		t.Fatalf("%s is not set: run ./scripts/test, which starts a throwaway PostgreSQL server for the tests", EnvPostgres)
	}
	return u
}

// Postgres returns a migrated store in a new schema of the test server; the
// schema is dropped when t ends.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	url := PostgresURL(t)
	schema := "t_" + id.Token(8)
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return open(t, store.Config{URL: url, Schema: schema})
}

// Open returns a migrated store for the given dialect name ("sqlite" or "postgres").
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	if dialect == "postgres" {
		return Postgres(t)
	}
	return SQLite(t)
}

func open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// DatabaseURL returns the URL of an empty database of the dialect for a
// test that opens Vigil the way a user does, with --database: "" (the
// default SQLite file in the data directory) for "sqlite", and a new
// database of the test server, dropped when t ends, for "postgres".
func DatabaseURL(t testing.TB, dialect string) string {
	t.Helper()
	if dialect != "postgres" {
		return ""
	}
	url := PostgresURL(t)
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	name := "vigil_t_" + id.Token(8)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
		admin.Close()
	})
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}
