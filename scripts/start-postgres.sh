#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the test suite and print its URL on stdout.
# Installs Debian's postgresql package when no server binaries are present (needs root, as on CI).
# Usage: eval "$(scripts/start-postgres.sh)"   -> exports OMNIBRIDGE_TEST_POSTGRES_URL
set -euo pipefail

PORT="${OMNIBRIDGE_PG_PORT:-54329}"
DATA="${OMNIBRIDGE_PG_DATA:-/tmp/omnibridge-pg-$PORT}"

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  echo "installing PostgreSQL from Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
fi

# initdb refuses to run as root; the Debian package creates the 'postgres' user.
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

if ! as_pg "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  # Not running: start from a fresh cluster, so nothing a killed earlier run left behind can get in the way.
  rm -rf "$DATA"
  mkdir -p "$DATA"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DATA"; fi
  as_pg "$BIN/initdb -D $DATA -A trust -U postgres" >/dev/null
  as_pg "$BIN/pg_ctl -D $DATA -l $DATA/server.log -w -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200' start" >/dev/null
fi

for _ in $(seq 1 30); do
  as_pg "$BIN/pg_isready -h 127.0.0.1 -p $PORT" >/dev/null 2>&1 && break
  sleep 0.5
done
as_pg "$BIN/psql -h 127.0.0.1 -p $PORT -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='omnibridge_test'\"" | grep -q 1 \
  || as_pg "$BIN/createdb -h 127.0.0.1 -p $PORT -U postgres omnibridge_test"

echo "export OMNIBRIDGE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/omnibridge_test"
