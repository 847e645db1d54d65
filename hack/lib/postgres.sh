# shellcheck shell=bash
# PostgreSQL from Debian's packages, as a local process with its own data
# folder and port. Sourced by hack/stack.sh.
#
# PostgreSQL refuses to run as root, and CI runs as root: then the data
# folder belongs to the `postgres` user and every server command runs as it.

PG_DIR="$STATE_DIR/postgres"

pg_bindir() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$dir" && -x "$dir/pg_ctl" ]] ||
    die "PostgreSQL server binaries not found in /usr/lib/postgresql: apt-get install postgresql"
  echo "$dir"
}

as_pg_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

postgres_env() {
  cat <<ENV
DATABASE_URL=postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DATABASE
PGHOST=127.0.0.1
PGPORT=$PG_PORT
PGUSER=$PG_USER
PGPASSWORD=$PG_PASSWORD
PGDATABASE=$PG_DATABASE
ENV
}

postgres_status() {
  local bin
  bin=$(pg_bindir)
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
}

postgres_up() {
  local bin
  bin=$(pg_bindir)
  if postgres_status; then
    log "postgres: already running on 127.0.0.1:$PG_PORT"
    return
  fi
  mkdir -p "$PG_DIR/run"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user: apt-get install postgresql creates it"
    chown -R postgres:postgres "$PG_DIR"
    runuser -u postgres -- test -w "$PG_DIR" ||
      die "user postgres cannot write $PG_DIR: a parent folder is not traversable (chmod o+x it), or set INGEST_STATE_DIR"
  fi
  if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
    log "postgres: initdb in $PG_DIR/data"
    local pwfile="$PG_DIR/pwfile"
    echo "$PG_PASSWORD" >"$pwfile"
    ((EUID == 0)) && chown postgres:postgres "$pwfile"
    as_pg_owner "$bin/initdb" -D "$PG_DIR/data" -U "$PG_USER" --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
      die "initdb failed: see $PG_DIR/initdb.log"
    rm -f "$pwfile"
  fi
  log "postgres: starting on 127.0.0.1:$PG_PORT"
  # fsync off: this is a throwaway test server, and fsync is most of the
  # cost of the many small transactions tests make.
  as_pg_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR/run -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || die "postgres did not start: see $PG_DIR/postgres.log"
  mkdir -p "$STATE_DIR/pids"
  head -n 1 "$PG_DIR/data/postmaster.pid" >"$STATE_DIR/pids/postgres.pid"
  if ! PGPASSWORD=$PG_PASSWORD "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "select 1 from pg_database where datname = '$PG_DATABASE'" | grep -q 1; then
    PGPASSWORD=$PG_PASSWORD "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$PG_DATABASE"
  fi
  log "postgres: ready ($("$bin/postgres" --version))"
}

postgres_down() {
  local bin
  bin=$(pg_bindir)
  if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
    log "stopping postgres"
    as_pg_owner "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || stop_daemon postgres
  fi
  rm -f "$STATE_DIR/pids/postgres.pid"
}
