#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests and local development.
#   source scripts/pg.sh; pg_start; ...; pg_stop
# pg_start installs the server with the OS package manager when it is missing,
# creates a cluster in a temporary directory, starts it on a free loopback port
# and exports VIGIL_TEST_POSTGRES_URL.

pg_install() {
  if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    return 0
  fi
  echo "scripts: installing the PostgreSQL server (not found)" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
}

pg_free_port() {
  # Start at a random port so that clusters started at the same moment
  # (parallel test runs) rarely pick the same one; pg_start retries if
  # they still do.
  local p i start=$((54330 + RANDOM % 600))
  for i in $(seq 0 599); do
    p=$((54330 + (start - 54330 + i) % 600))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

pg_start() {
  pg_install || return 1
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_DIR=$(mktemp -d -t vigil-pg.XXXXXX)
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root: run it as the postgres user.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U vigil --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # Another cluster may take the free port between the check and the
  # start: try a few ports before giving up.
  local try
  for try in 1 2 3 4 5; do
    PG_PORT=$(pg_free_port) || { echo "scripts: no free port for PostgreSQL" >&2; return 1; }
    if "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null; then
      break
    fi
    if [ "$try" -eq 5 ] || ! grep -q "could not create any TCP/IP sockets" "$PG_DIR/server.log"; then
      cat "$PG_DIR/server.log" >&2
      return 1
    fi
  done
  export PG_BIN="$bin" PG_DIR PG_PORT
  export VIGIL_TEST_POSTGRES_URL="postgres://vigil@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
  echo "scripts: PostgreSQL running on 127.0.0.1:$PG_PORT" >&2
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  local run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
