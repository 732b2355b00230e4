#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback and export GENJIN_TEST_POSTGRES_URL.
# Sourced by .ci/run; also usable by hand: `source .ci/postgres.sh` (stop it with pg_stop).
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    echo "installing PostgreSQL and a CJK font for charts (Debian packages postgresql, fonts-wqy-microhei)…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql fonts-wqy-microhei fontconfig >/dev/null
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PG_PORT=${GENJIN_TEST_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
PG_DIR=$(mktemp -d /tmp/genjin-pg.XXXXXX)
PG_RUN_AS=()
if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$PG_DIR" postgres
    chown postgres "$PG_DIR"
    PG_RUN_AS=(runuser -u postgres --)
fi
# The server's user may not enter the caller's folder (a clone under a private mktemp -d).
pg_as() { (cd "$PG_DIR" && "${PG_RUN_AS[@]}" "$@"); }
pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U genjin -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
if ! pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null; then
    cat "$PG_DIR/server.log" >&2
    exit 1
fi
pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U genjin genjin_test
export GENJIN_TEST_POSTGRES_URL="postgresql://genjin@127.0.0.1:$PG_PORT/genjin_test"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"

pg_stop() {
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
