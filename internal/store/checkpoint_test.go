package store

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkpointTest is a store on a new SQLite file whose writes fill about
// 2,500 pages of the WAL.
type checkpointTest struct {
	st   *Store
	path string
}

func setupCheckpoint(t *testing.T) *checkpointTest {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigil.db")
	st, err := Open(context.Background(), Config{URL: "sqlite://" + path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &checkpointTest{st: st, path: path}
}

// written is about what write adds to the database.
const written = 2500 * 4000

// write commits 10 MB through the batcher, 100 rows a transaction.
func (c *checkpointTest) write(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := c.st.InTx(ctx, func(tx *Tx) error {
		_, err := tx.SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS filler (b BLOB)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("x", 4000)
	for range 25 {
		if err := c.st.InTx(ctx, func(tx *Tx) error {
			for range 100 {
				if _, err := tx.SQL().ExecContext(ctx, `INSERT INTO filler (b) VALUES ($1)`, row); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// size is the size of the database file, or of its WAL with suffix "-wal".
func (c *checkpointTest) size(t *testing.T, suffix string) int64 {
	t.Helper()
	fi, err := os.Stat(c.path + suffix)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// waitFor polls cond until it holds, failing after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The writers' commits leave the WAL to the checkpointer: with it stopped,
// 10 MB of commits stay in the WAL; once it runs, they reach the database
// file.
func TestCheckpointerCopiesTheWALOffTheWriter(t *testing.T) {
	c := setupCheckpoint(t)
	c.st.checkpoints.close()
	c.st.checkpoints = nil // not closed again if the test stops here
	c.write(t)
	if got := c.size(t, ""); got > 1<<20 {
		t.Fatalf("the database file has %d bytes after the writes with no checkpointer; want the writes left in the WAL", got)
	}
	if got := c.size(t, "-wal"); got < written {
		t.Fatalf("the WAL has %d bytes after 10 MB of writes", got)
	}
	c.st.checkpoints = newCheckpointer(c.st.reads, slog.New(slog.DiscardHandler), checkpointTruncateFrames)
	waitFor(t, "the writes to reach the database file", func() bool { return c.size(t, "") >= written })
}

// A WAL longer than truncateFrames is copied whole and started again, so
// that writes without a pause do not grow it without end: the next write
// goes to its beginning.
func TestCheckpointerRestartsALongWAL(t *testing.T) {
	c := setupCheckpoint(t)
	c.st.checkpoints.close()
	c.st.checkpoints = nil // not closed again if the test stops here
	c.write(t)
	walSize := c.size(t, "-wal")
	c.st.checkpoints = newCheckpointer(c.st.reads, slog.New(slog.DiscardHandler), 1000)
	waitFor(t, "a checkpoint that starts the WAL again", func() bool { return c.st.checkpoints.restarts.Load() > 0 })
	ctx := context.Background()
	if err := c.st.InTx(ctx, func(tx *Tx) error {
		_, err := tx.SQL().ExecContext(ctx, `INSERT INTO filler (b) VALUES ('last')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var busy, frames, copied, n int
	if err := c.st.reads.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	if frames > 10 {
		t.Errorf("the WAL holds %d pages after one small write; want it started again", frames)
	}
	if got := c.size(t, "-wal"); got > walSize {
		t.Errorf("the WAL file grew from %d to %d bytes; want the write at its beginning", walSize, got)
	}
	if err := c.st.reads.QueryRowContext(ctx, `SELECT COUNT(*) FROM filler`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2501 {
		t.Fatalf("%d rows after the checkpoints; want 2501", n)
	}
}
