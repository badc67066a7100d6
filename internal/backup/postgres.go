package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
)

// ErrNoTool is returned when pg_dump or pg_restore cannot be found.
var ErrNoTool = errors.New("not found on PATH")

// Tools says where the PostgreSQL client tools are. Its zero value looks
// for them on PATH.
type Tools struct {
	// Dir, when set, is searched before PATH (e.g. /usr/lib/postgresql/16/bin).
	Dir string
}

// find returns the path of the named tool.
func (t Tools) find(name string) (string, error) {
	if t.Dir != "" {
		p := t.Dir + string(os.PathSeparator) + name
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", ErrNoTool
	}
	return p, nil
}

// Postgres writes the PostgreSQL database dbURL names to dest with pg_dump,
// in its custom format (compressed; pg_restore reads it), under a temporary
// name moved into place once complete; an existing dest is replaced only
// with force. The password travels in the environment, never on the
// command line where other users of the machine could read it.
func Postgres(ctx context.Context, tools Tools, dbURL, dest string, force bool) error {
	if err := checkDest(dest, force); err != nil {
		return err
	}
	bin, err := tools.find("pg_dump")
	if err != nil {
		return fmt.Errorf("pg_dump: %w; install the PostgreSQL client tools (the same major version as the server or newer), or run it yourself: pg_dump --format=custom --file=%s \"$VIGIL_DATABASE_URL\"", err, dest)
	}
	tmp, err := tempName(dest)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	conn, env, err := splitPassword(dbURL)
	if err != nil {
		return err
	}
	if err := run(ctx, bin, env, "--format=custom", "--no-password", "--file="+tmp, "--dbname="+conn); err != nil {
		return fmt.Errorf("pg_dump failed: %w", err)
	}
	return place(tmp, dest, force)
}

// RestorePostgres loads a pg_dump custom-format file into the PostgreSQL
// database dbURL names with pg_restore, dropping the objects it restores
// first (--clean) and in one transaction, so a failed restore leaves the
// database as it was. Every Vigil node must be stopped meanwhile.
func RestorePostgres(ctx context.Context, tools Tools, dbURL, src string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("cannot read the backup file %s: %w", src, unwrapPath(err))
	}
	bin, err := tools.find("pg_restore")
	if err != nil {
		return fmt.Errorf("pg_restore: %w; install the PostgreSQL client tools (the same major version as the server or newer), or run it yourself: pg_restore --clean --if-exists --no-owner --single-transaction --dbname=\"$VIGIL_DATABASE_URL\" %s", err, src)
	}
	conn, env, err := splitPassword(dbURL)
	if err != nil {
		return err
	}
	if err := run(ctx, bin, env, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--no-password",
		"--dbname="+conn, src); err != nil {
		return fmt.Errorf("pg_restore failed: %w", err)
	}
	return nil
}

// splitPassword takes the password out of a PostgreSQL URL and returns it
// as PGPASSWORD for the tool's environment.
func splitPassword(dbURL string) (string, []string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", nil, errors.New("the PostgreSQL URL is not valid")
	}
	env := os.Environ()
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	return u.String(), env, nil
}

// run runs a client tool and turns a failure into an error carrying the
// first line the tool printed.
func run(ctx context.Context, bin string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // G204: pg_dump or pg_restore, from the configured directory or PATH
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if msg := oneLine(stderr.String()); msg != "" {
			return fmt.Errorf("%s (%w)", msg, err)
		}
		return err
	}
	return nil
}
