package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes an exclusive lock on <dataDir>/serve.lock so that a second
// server cannot run on the same SQLite database: SQLite would allow it, but two
// job runners and two schedulers on one file only fight over the write lock.
// Management commands do not take this lock; they work beside a running server.
func lockDataDir(dataDir string) (release func(), err error) {
	path := filepath.Join(dataDir, "serve.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // G304: a fixed name in the configured data directory
	if err != nil {
		return nil, fmt.Errorf("cannot create the lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &busyError{dir: dataDir}
		}
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) // closing f releases the lock too
		f.Close()
	}, nil
}

// busyError is returned when a server already holds the data directory.
type busyError struct{ dir string }

func (e *busyError) Error() string {
	return fmt.Sprintf("another vigil server is already running on the data directory %s; stop it, or use PostgreSQL (--database postgres://…) to run several nodes", e.dir)
}
