#!/usr/bin/env bash
# Throwaway PostgreSQL 15 + PostGIS cluster for demine tests and benchmarks.
#
#   scripts/postgis.sh start          initdb (first time) + start; prints the URL as last stdout line
#   scripts/postgis.sh stop           stop the cluster (no-op when not running)
#   scripts/postgis.sh status         exit 0 when the server answers on the port
#   scripts/postgis.sh url            print the SQLAlchemy URL of the `demine` database
#   scripts/postgis.sh createdb NAME  (re)create database NAME with postgis; prints its URL
#
# Environment:
#   DEMINE_PG_DIR   cluster root (default /tmp/demine-pg): data/ = PGDATA, postgres.log, socket
#   DEMINE_PG_PORT  TCP port on 127.0.0.1 (default 55432)
#
# The cluster is tuned for speed, not durability (fsync/full_page_writes off):
# never point it at data you care about.
set -euo pipefail

PG_VERSION=15
PG_BIN="/usr/lib/postgresql/${PG_VERSION}/bin"
POSTGIS_CONTROL="/usr/share/postgresql/${PG_VERSION}/extension/postgis.control"

PG_ROOT="${DEMINE_PG_DIR:-/tmp/demine-pg}"
PG_PORT="${DEMINE_PG_PORT:-55432}"
PG_HOST=127.0.0.1
PGDATA_DIR="${PG_ROOT}/data"
PG_LOG="${PG_ROOT}/postgres.log"
DB_USER=demine
DB_PASS=demine
DB_NAME=demine

log() { printf 'postgis.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

url_for() { printf 'postgresql+psycopg://%s:%s@%s:%s/%s\n' "$DB_USER" "$DB_PASS" "$PG_HOST" "$PG_PORT" "$1"; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# initdb/pg_ctl refuse to run as root: run them as `postgres` (from / so that an
# unreadable current directory does not matter). Non-root users run them as themselves.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# Unix socket directory: the cluster root, unless its path is too long for a
# socket name (sun_path is 108 bytes), then /tmp.
socket_dir() {
  local candidate="$PG_ROOT"
  if (( ${#candidate} + ${#PG_PORT} + 12 > 100 )); then
    candidate=/tmp
  fi
  printf '%s\n' "$candidate"
}

# Admin psql: superuser `postgres` over the unix socket (trust auth).
psql_admin() {
  local db="$1"; shift
  PGOPTIONS="-c client_min_messages=warning" \
    "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
    -h "$(socket_dir)" -p "$PG_PORT" -U postgres -d "$db" "$@"
}

# apt-get that waits up to 10 minutes for another apt or dpkg run (a fresh machine often runs
# one at boot). DPkg::Lock::Timeout makes dpkg's lock wait; `apt-get update` (apt 2.6) ignores
# it for the lists lock, hence the retry while the error is a held lock.
apt_get() {
  local deadline=$((SECONDS + 600)) err status
  err=$(mktemp)
  while true; do
    status=0
    apt-get -o DPkg::Lock::Timeout=600 "$@" 2>"$err" || status=$?
    if ((status == 0)) || ! grep -q "Could not get lock" "$err" || ((SECONDS >= deadline)); then
      cat "$err" >&2
      rm -f "$err"
      return "$status"
    fi
    sleep 5
  done
}

ensure_packages() {
  if [[ -x "$PG_BIN/initdb" && -f "$POSTGIS_CONTROL" ]]; then
    return 0
  fi
  is_root || die "PostgreSQL ${PG_VERSION}/PostGIS missing; run as root or: apt-get install -y postgresql-${PG_VERSION}-postgis-3"
  log "installing postgresql-${PG_VERSION}-postgis-3 (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt_get update >&2
  apt_get install -y postgresql-${PG_VERSION} postgresql-${PG_VERSION}-postgis-3 >&2
  [[ -x "$PG_BIN/initdb" ]] || die "initdb not found at $PG_BIN after install"
  [[ -f "$POSTGIS_CONTROL" ]] || die "postgis.control not found after install"
}

server_ready() {
  "$PG_BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1
}

# Is *our* cluster (the one in PGDATA_DIR) running? Like `pg_ctl status`, but a
# postmaster left as a zombie (killed, in a container whose init does not reap)
# counts as not running.
cluster_running() {
  local pid state
  [[ -f "$PGDATA_DIR/postmaster.pid" ]] || return 1
  pid="$(head -n 1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    state="$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d ' ' -f 1)"
    [[ "$state" != Z ]] || return 1
  fi
  return 0
}

prepare_root() {
  mkdir -p "$PG_ROOT"
  if is_root; then
    chown postgres:postgres "$PG_ROOT"
    as_pg test -w "$PG_ROOT" -a -x "$PG_ROOT" \
      || die "user postgres cannot write $PG_ROOT (check permissions of its parent directories)"
  fi
  chmod 0755 "$PG_ROOT"
}

init_cluster() {
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] && return 0
  if [[ -e "$PGDATA_DIR" ]]; then
    log "removing incomplete data directory $PGDATA_DIR"
    rm -rf "$PGDATA_DIR"
  fi
  log "initdb $PGDATA_DIR"
  if ! as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --locale=C \
        >"$PG_ROOT/initdb.log" 2>&1; then
    cat "$PG_ROOT/initdb.log" >&2
    die "initdb failed"
  fi
  # Runtime settings live in an include file rewritten on every start, so a
  # changed DEMINE_PG_PORT / socket dir takes effect without re-initdb.
  printf "\ninclude_if_exists = 'demine.conf'\n" >>"$PGDATA_DIR/postgresql.conf"
  # initdb -A trust already trusts local + 127.0.0.1/32 + ::1/128; be explicit anyway.
  cat >"$PGDATA_DIR/pg_hba.conf" <<'HBA'
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
host    all       all   ::1/128        trust
local   replication all                trust
host    replication all 127.0.0.1/32   trust
HBA
  is_root && chown postgres:postgres "$PGDATA_DIR/pg_hba.conf"
  return 0
}

write_runtime_conf() {
  local conf="$PGDATA_DIR/demine.conf"
  cat >"$conf" <<CONF
# Written by scripts/postgis.sh on every start; do not edit.
listen_addresses = '${PG_HOST}'
port = ${PG_PORT}
unix_socket_directories = '$(socket_dir)'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
CONF
  is_root && chown postgres:postgres "$conf"
  return 0
}

ensure_database() {
  psql_admin postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN
    CREATE ROLE ${DB_USER} SUPERUSER LOGIN PASSWORD '${DB_PASS}';
  END IF;
END
\$\$;
SQL
  if [[ "$(psql_admin postgres -c "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'")" != 1 ]]; then
    psql_admin postgres -c "CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}"
  fi
  psql_admin "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS postgis"
}

# Serialise concurrent start/stop/createdb calls on the same cluster root.
take_lock() {
  prepare_root
  exec 9>"$PG_ROOT/.lock"
  flock -w 120 9 || die "timed out waiting for lock $PG_ROOT/.lock"
}

start_cluster() {
  if cluster_running; then
    if server_ready; then
      ensure_database
      return 0
    fi
    log "cluster running but not answering on ${PG_HOST}:${PG_PORT}; restarting"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 60 >/dev/null 9>&- \
      || die "could not stop the running cluster in $PGDATA_DIR"
  elif server_ready; then
    # Something else (not our data dir) is on the port: usable only if the URL works.
    if "$PG_BIN/psql" -X -q -At "postgresql://${DB_USER}:${DB_PASS}@${PG_HOST}:${PG_PORT}/${DB_NAME}" \
         -c "SELECT postgis_lib_version()" >/dev/null 2>&1; then
      log "a server with PostGIS is already running on ${PG_HOST}:${PG_PORT}; using it"
      return 0
    fi
    die "port ${PG_PORT} is in use by another server without a usable ${DB_NAME} database; set DEMINE_PG_PORT"
  fi

  ensure_packages
  init_cluster
  write_runtime_conf
  if [[ -f "$PGDATA_DIR/postmaster.pid" ]]; then
    log "removing stale postmaster.pid"
    rm -f "$PGDATA_DIR/postmaster.pid"
  fi
  : >>"$PG_LOG"
  is_root && chown postgres:postgres "$PG_LOG"
  log "starting PostgreSQL ${PG_VERSION} on ${PG_HOST}:${PG_PORT} (log: $PG_LOG)"
  # Retried: after a crash, orphaned backends may hold the old shared memory
  # segment for a moment. 9>&-: the postmaster must not inherit our lock fd.
  local attempt
  for attempt in 1 2 3; do
    if as_pg "$PG_BIN/pg_ctl" start -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 >/dev/null 9>&-; then
      break
    fi
    if (( attempt == 3 )); then
      tail -n 30 "$PG_LOG" >&2 || true
      die "pg_ctl start failed (see $PG_LOG)"
    fi
    log "pg_ctl start failed (attempt $attempt); retrying"
    cluster_running || rm -f "$PGDATA_DIR/postmaster.pid"
    sleep 2
  done
  ensure_database
}

cmd_start() {
  take_lock
  start_cluster
  url_for "$DB_NAME"
}

cmd_stop() {
  take_lock
  if cluster_running; then
    as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 60 >/dev/null 9>&-
    log "stopped"
  else
    log "not running"
  fi
}

cmd_status() {
  if server_ready; then
    log "running on ${PG_HOST}:${PG_PORT}"
  else
    log "not running on ${PG_HOST}:${PG_PORT}"
    return 1
  fi
}

cmd_createdb() {
  local name="${1:-}"
  [[ -n "$name" ]] || die "usage: $0 createdb NAME"
  [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] \
    || die "invalid database name '$name' (use lower-case letters, digits, underscore)"
  case "$name" in
    postgres|template0|template1|"$DB_NAME") die "refusing to recreate database '$name'" ;;
  esac
  take_lock
  start_cluster
  psql_admin postgres -c "DROP DATABASE IF EXISTS ${name} WITH (FORCE)"
  psql_admin postgres -c "CREATE DATABASE ${name} OWNER ${DB_USER}"
  psql_admin "$name" -c "CREATE EXTENSION IF NOT EXISTS postgis"
  url_for "$name"
}

usage() {
  cat >&2 <<USAGE
usage: $0 {start|stop|status|url|createdb NAME}
  DEMINE_PG_DIR=${PG_ROOT}  DEMINE_PG_PORT=${PG_PORT}
USAGE
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) url_for "$DB_NAME" ;;
    createdb) cmd_createdb "$@" ;;
    -h|--help|help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
