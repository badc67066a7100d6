package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigil-ispm/vigil/internal/backup"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/store"
)

// BackupOptions are the choices of Backup and Restore.
type BackupOptions struct {
	// Force lets Backup replace an existing file.
	Force bool
	// Tools says where pg_dump and pg_restore are (PostgreSQL only).
	Tools backup.Tools
}

// Backup writes a copy of the database cfg names to file. On SQLite it
// works beside a running server and does not migrate: the copy is the
// database as it is. The master key is not copied.
func Backup(ctx context.Context, cfg Config, file string, opts BackupOptions) error {
	cfg = cfg.WithDefaults()
	path, sqlite, err := store.SQLitePath(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if !sqlite {
		return backup.Postgres(ctx, opts.Tools, cfg.DatabaseURL, file, opts.Force)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("there is no database at %s to back up; check --data-dir or --database", path)
	}
	st, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL})
	if err != nil {
		return err
	}
	defer st.Close()
	return backup.SQLite(ctx, st.DB(), file, opts.Force)
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	// Aside is where the replaced SQLite database was moved; empty when
	// there was none, and on PostgreSQL.
	Aside string
	// NoKey is set when the data directory has no master key and none is
	// configured: the sealed secrets of the restored data open only once
	// the key they were sealed with is put back.
	NoKey bool
}

// Restore replaces the database cfg names with the backup in file. On
// SQLite it holds the data directory's lock meanwhile, so it refuses while
// a server runs there and no server starts halfway through.
func Restore(ctx context.Context, cfg Config, file string, opts BackupOptions) (RestoreResult, error) {
	cfg = cfg.WithDefaults()
	var res RestoreResult
	path, sqlite, err := store.SQLitePath(cfg.DatabaseURL)
	if err != nil {
		return res, err
	}
	if !sqlite {
		return res, backup.RestorePostgres(ctx, opts.Tools, cfg.DatabaseURL, file)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return res, fmt.Errorf("cannot create the data directory %s: %w", cfg.DataDir, unwrapPath(err))
	}
	release, err := lockDataDir(cfg.DataDir)
	if err != nil {
		if be := (*busyError)(nil); errors.As(err, &be) {
			return res, fmt.Errorf("a vigil server is running on the data directory %s; stop it before restoring", cfg.DataDir)
		}
		return res, err
	}
	defer release()
	res.Aside, err = backup.RestoreSQLite(ctx, file, path, cfg.Now())
	if err != nil {
		return res, err
	}
	if cfg.MasterKey == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, secret.KeyFile)); errors.Is(err, os.ErrNotExist) {
			res.NoKey = true
		}
	}
	return res, nil
}
