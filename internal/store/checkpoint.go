package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"
)

// Checkpoint pacing on SQLite (see checkpointer).
const (
	// checkpointGap is the least time between two checkpoints: under
	// load, each copies what the writes of that time changed, a page
	// written many times once.
	checkpointGap = 100 * time.Millisecond
	// checkpointIdle is how often the WAL is checkpointed when the
	// batcher committed nothing: River writes outside it.
	checkpointIdle = time.Second
	// checkpointTruncateFrames is the WAL's length, in pages, past which a
	// checkpoint waits for the writer and starts the WAL again (see
	// checkpointer).
	checkpointTruncateFrames = 16_384
)

// checkpointer copies SQLite's write-ahead log into the database file on
// a goroutine of its own. SQLite does it by default in the commit that
// takes the WAL past 1,000 pages, on the committing connection: here the
// batcher's goroutine, which runs every write of the node one after
// another, so each checkpoint (about a sixth of that goroutine's CPU under
// the chain benchmark's load) delayed every writer behind it while the
// other processors had time to spare. The writers' connections turn the
// automatic checkpoint off (wal_autocheckpoint(0)) and this one runs a
// passive checkpoint, which neither waits for nor blocks the writer, from
// a connection of the read pool after the batcher commits (at most every
// checkpointGap) and every checkpointIdle regardless.
//
// SQLite starts the WAL again from its beginning only once it has been
// copied whole and no reader still reads from it: under load a passive
// checkpoint overlaps writes and reads, so the WAL could grow without end.
// So when it holds more than truncateFrames pages, the checkpoint waits
// for the writer and the readers (up to the busy timeout), copies
// everything and has the next write start the WAL again, holding the
// writer back meanwhile, as the automatic checkpoint did. It restarts the
// file rather than truncating it: writes over pages the file already has
// cost less than writes that grow it (a fifth of the commits' CPU in the
// chain benchmark when the WAL was truncated each time).
type checkpointer struct {
	db     *sql.DB
	logger *slog.Logger
	// truncateFrames is checkpointTruncateFrames; tests lower it.
	truncateFrames int
	// restarts counts the checkpoints that started the WAL again.
	restarts atomic.Int64
	wake     chan struct{}
	stop     chan struct{}
	stopped  chan struct{}
}

func newCheckpointer(db *sql.DB, logger *slog.Logger, truncateFrames int) *checkpointer {
	c := &checkpointer{db: db, logger: logger, truncateFrames: truncateFrames, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// wrote tells the checkpointer that a transaction committed. It never
// blocks: a wake-up already pending covers this one.
func (c *checkpointer) wrote() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) close() {
	close(c.stop)
	<-c.stopped
}

func (c *checkpointer) loop() {
	defer close(c.stopped)
	idle := time.NewTicker(checkpointIdle)
	defer idle.Stop()
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		case <-idle.C:
		}
		mode := "PASSIVE"
		frames, err := c.checkpoint(mode)
		if err == nil && frames > c.truncateFrames {
			mode = "RESTART"
			if _, err = c.checkpoint(mode); err == nil {
				c.restarts.Add(1)
			}
		}
		if err != nil {
			// The next checkpoint copies what this one did not; the WAL
			// only grows meanwhile.
			c.logger.Warn("cannot checkpoint the SQLite write-ahead log; trying again later", "mode", mode, "err", err)
		}
		gap.Reset(checkpointGap)
		select {
		case <-c.stop:
			return
		case <-gap.C:
		}
	}
}

// checkpoint runs one checkpoint in mode and returns how many pages the WAL
// held.
func (c *checkpointer) checkpoint(mode string) (frames int, err error) {
	// A checkpoint of a long WAL on a slow disk may take seconds; it
	// never writes what a transaction is still writing, so no deadline
	// short of the busy timeout is needed. Close waits for it.
	var busy, checkpointed int
	err = c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &checkpointed)
	return frames, err
}
