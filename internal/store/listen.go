package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExecutionCancelled is the channel (Notify, Listen) that carries the id
// of an execution just cancelled, so that the node running it, or holding
// it in its line, stops it at once rather than at its next lease renewal.
const ExecutionCancelled = "vigil_execution_cancelled"

// listenRetry bounds the pause before a lost listening connection is
// opened again.
const listenRetry = 5 * time.Second

// Notify sends payload to every node that listens on channel, itself
// included. On SQLite it does nothing: a server is alone on its database.
// A notification is a hint: one sent while a listener's connection is
// lost never reaches it, so what it triggers must also happen without it.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := s.c.exec(ctx, `SELECT pg_notify($1, $2)`, s.channel(channel), payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen calls fn with the payload of each notification sent on channel,
// from one goroutine, until ctx ends. It returns once the first listening
// connection is open, so that a notification sent after it returns is
// received; a connection lost later is opened again after a pause, and
// the notifications sent meanwhile are missed. On SQLite it returns nil
// and listens to nothing.
func (s *Store) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	if s.dialect != Postgres {
		return nil
	}
	conn, err := s.listenConn(ctx, channel)
	if err != nil {
		return err
	}
	go s.listen(ctx, conn, channel, fn)
	return nil
}

// listenConn opens a connection outside the pool, which LISTEN holds for
// as long as it lives, and listens on channel there.
func (s *Store) listenConn(ctx context.Context, channel string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("cannot open a connection to listen on %s: %w", channel, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel(channel)}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("cannot listen on %s: %w", channel, err)
	}
	return conn, nil
}

// channel is the name of channel in the database: a channel spans the
// database, so a store in a schema of its own (deployments sharing one
// database) prefixes it with the schema.
func (s *Store) channel(name string) string {
	if s.schema == "" {
		return name
	}
	return s.schema + "." + name
}

func (s *Store) listen(ctx context.Context, conn *pgx.Conn, channel string, fn func(string)) {
	pause := 100 * time.Millisecond
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			fn(n.Payload)
			pause = 100 * time.Millisecond
			continue
		}
		_ = conn.Close(context.WithoutCancel(ctx))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, listenRetry)
			if conn, err = s.listenConn(ctx, channel); err == nil {
				break
			}
		}
	}
}
