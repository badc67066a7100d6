// Package backup copies Vigil's database to one file and puts such a copy
// back. On SQLite it works on the database file itself: the copy is taken
// online (VACUUM INTO reads one consistent snapshot while a server keeps
// writing) and a restore checks the copy before it moves it in. On
// PostgreSQL it runs the PostgreSQL client tools, pg_dump and pg_restore.
//
// The master key is never part of a backup: sealed secrets in the copy open
// only with the key they were sealed with, which is kept apart from the data.
package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// ErrExists is returned when the backup file already exists and the caller
// did not ask to overwrite it.
var ErrExists = errors.New("the backup file already exists")

// SQLite writes a consistent copy of the open SQLite database db to dest,
// while other connections (a running server) go on writing. The copy is
// written beside dest under a temporary name and moved into place only once
// complete, so a crash never leaves half a backup under dest's name; an
// existing dest is replaced only with force.
func SQLite(ctx context.Context, db *sql.DB, dest string, force bool) error {
	if err := checkDest(dest, force); err != nil {
		return err
	}
	tmp, err := tempName(dest)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if _, err := db.ExecContext(ctx, `VACUUM INTO $1`, tmp); err != nil {
		return fmt.Errorf("copy the database: %w", err)
	}
	return place(tmp, dest, force)
}

// RestoreSQLite puts the backup src in place of the SQLite database at
// dbPath. It copies src beside dbPath first and checks the copy (an SQLite
// database that passes integrity_check, with Vigil's schema, made by this
// version of Vigil or an older one), so a bad file changes nothing. The
// database it replaces, with its write-ahead log, is kept beside it renamed
// with the suffix ".before-restore-<time>"; RestoreSQLite returns that
// name, or "" when there was no database. The caller makes sure no server
// uses dbPath meanwhile.
func RestoreSQLite(ctx context.Context, src, dbPath string, now time.Time) (aside string, err error) {
	if _, err := os.Stat(src); err != nil {
		return "", fmt.Errorf("cannot read the backup file %s: %w", src, unwrapPath(err))
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		return "", fmt.Errorf("cannot create the directory for the database %s: %w", dbPath, unwrapPath(err))
	}
	tmp, err := tempName(dbPath)
	if err != nil {
		return "", err
	}
	defer removeDB(tmp)
	if err := copyFile(src, tmp); err != nil {
		return "", err
	}
	if err := verify(ctx, tmp, src); err != nil {
		return "", err
	}
	if err := syncFile(tmp); err != nil {
		return "", err
	}
	if _, err := os.Stat(dbPath); err == nil {
		aside = dbPath + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		// The log and shared memory files belong to the database file of
		// the same name: they move with it, or the restored database would
		// read the old one's log.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(dbPath+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("cannot move the current database aside: %w", err)
			}
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return aside, fmt.Errorf("cannot move the restored database into place: %w; the previous database is %s", err, aside)
	}
	return aside, syncDir(filepath.Dir(dbPath))
}

// verify checks that path, a copy of the backup file src, is a whole SQLite
// database holding Vigil's schema at a version this binary knows.
func verify(ctx context.Context, path, src string) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return fmt.Errorf("cannot open the backup file %s: %w", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var result string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return fmt.Errorf("%s is not a Vigil backup: it is not an SQLite database (%w)", src, err)
	}
	if result != "ok" {
		return fmt.Errorf("%s is damaged: SQLite's integrity check says %q; restore another backup", src, result)
	}
	rows, err := db.QueryContext(ctx, `SELECT version FROM vigil_migration`)
	if err != nil {
		return fmt.Errorf("%s is not a Vigil backup: it has no Vigil schema", src)
	}
	defer rows.Close()
	known := store.MigrationVersions()
	n := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("read the schema version of %s: %w", src, err)
		}
		if !slices.Contains(known, v) {
			return fmt.Errorf("%s was made by a newer Vigil (schema step %s is unknown to this one); restore it with that version or a later one", src, v)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the schema version of %s: %w", src, err)
	}
	if n == 0 {
		return fmt.Errorf("%s is not a Vigil backup: its schema is empty", src)
	}
	return nil
}

// checkDest refuses an existing dest unless force is set, and a dest in a
// directory that does not exist.
func checkDest(dest string, force bool) error {
	if dest == "" {
		return errors.New("no backup file given")
	}
	if fi, err := os.Stat(dest); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("%s is a directory; name the backup file", dest)
		}
		if !force {
			return fmt.Errorf("%s: %w; choose another name or pass --force to replace it", dest, ErrExists)
		}
	}
	if fi, err := os.Stat(filepath.Dir(dest)); err != nil || !fi.IsDir() {
		return fmt.Errorf("the directory of %s does not exist; create it first", dest)
	}
	return nil
}

// tempName returns an unused name beside path for a file being written.
func tempName(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("cannot write beside %s: %w", path, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	// VACUUM INTO and pg_dump create the file themselves and refuse an
	// existing one; the name stays reserved only in the sense that it is
	// random.
	os.Remove(name)
	return name, nil
}

// place makes the complete file tmp durable and gives it dest's name: with
// force by a rename that replaces dest, otherwise by a link that fails if
// dest appeared meanwhile, so a backup never overwrites a file silently.
// Backups hold password hashes and sealed secrets: the file is private.
func place(tmp, dest string, force bool) error {
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("cannot protect the backup file: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if force {
		if err := os.Rename(tmp, dest); err != nil {
			return fmt.Errorf("cannot move the backup to %s: %w", dest, unwrapPath(err))
		}
	} else {
		if err := os.Link(tmp, dest); err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s: %w; choose another name or pass --force to replace it", dest, ErrExists)
			}
			return fmt.Errorf("cannot move the backup to %s: %w", dest, unwrapPath(err))
		}
		os.Remove(tmp)
	}
	return syncDir(filepath.Dir(dest))
}

func copyFile(src, dst string) error {
	in, err := os.Open(src) //nolint:gosec // G304: the operator names the backup file
	if err != nil {
		return fmt.Errorf("cannot read the backup file %s: %w", src, unwrapPath(err))
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: the configured database file
	if err != nil {
		return fmt.Errorf("cannot write the restored database: %w", unwrapPath(err))
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		return fmt.Errorf("cannot copy the backup file %s: %w", src, err)
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0) //nolint:gosec // G304: a file this package just wrote
	if err != nil {
		return fmt.Errorf("cannot write %s to disk: %w", path, unwrapPath(err))
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cannot write %s to disk: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // G304: the directory of a file this package just wrote
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync() // best effort: some file systems cannot sync a directory; the file itself is synced
	return nil
}

// removeDB removes a database file that was not moved into place, with the
// log files SQLite may have left beside it.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// oneLine keeps the first line of a tool's message, for an error that
// reads as one sentence.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
