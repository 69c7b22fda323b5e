#!/usr/bin/env bash
# A throwaway PostgreSQL for the storage tests.
#   bash scripts/ci_postgres.sh start   # prints the database URL (and only that) on stdout
#   bash scripts/ci_postgres.sh stop    # stops the server and deletes its files
#   bash scripts/ci_postgres.sh pause   # stops the server, keeping its files (fault tests)
#   bash scripts/ci_postgres.sh resume  # starts a paused server again
# Installs the distribution's postgresql package if no server binaries are found (needs root
# or sudo). The cluster lives in a temporary folder, listens on 127.0.0.1 only, port 54329
# (override with ALLOCATOR_PG_PORT), trusts local connections and has fsync off: test only.
set -euo pipefail

PORT="${ALLOCATOR_PG_PORT:-54329}"
STATE="${ALLOCATOR_PG_DIR:-${TMPDIR:-/tmp}/allocator-ci-postgres-$PORT}"
DATABASE="allocator_test"

log() { echo "ci_postgres: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

server_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Run a server command as the cluster's owner (initdb refuses to run as root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bin
    bin="$(server_bin)"
    if [ -z "$bin" ]; then
        log "installing postgresql from the distribution's packages"
        as_root apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
        bin="$(server_bin)"
    fi
    [ -n "$bin" ] || { log "no PostgreSQL server binaries found"; exit 1; }
    if [ -f "$STATE/data/postmaster.pid" ]; then
        log "a cluster is already running in $STATE; stopping it first"
        stop
    fi
    rm -rf "$STATE"
    mkdir -p "$STATE"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$STATE"; fi
    as_owner "$bin/initdb" -D "$STATE/data" -U postgres -A trust -E UTF8 --no-sync >&2
    as_owner "$bin/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w -t 60 \
        -o "-p $PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
        start >&2
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DATABASE" >&2
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT, data in $STATE"
    echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DATABASE"
}

stop() {
    local bin
    bin="$(server_bin)"
    if [ -n "$bin" ] && [ -f "$STATE/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$STATE/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$STATE"
    log "stopped and removed $STATE"
}

pause() {
    local bin
    bin="$(server_bin)"
    as_owner "$bin/pg_ctl" -D "$STATE/data" -m fast -w stop >&2
}

resume() {
    local bin
    bin="$(server_bin)"
    as_owner "$bin/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w -t 60 \
        -o "-p $PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
        start >&2
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    pause) pause ;;
    resume) resume ;;
    *) echo "usage: $0 start|stop|pause|resume" >&2; exit 2 ;;
esac
