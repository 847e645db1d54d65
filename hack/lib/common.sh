# shellcheck shell=bash
# Shared settings and helpers for the hack/ scripts. Sourced, never run.
#
# Two folders matter:
#   STATE_DIR  per-clone runtime state (data folders, logs, pids, certs,
#              kubeconfig, stack.env); git-ignored, removed by `make clean-stack`.
#   CACHE_DIR  built binaries, named by version, OUTSIDE the clone, so that
#              a fresh clone (as CI makes) reuses them, like Go's own caches.

set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HACK_DIR="$ROOT_DIR/hack"
STATE_DIR=${INGEST_STATE_DIR:-$ROOT_DIR/.state}
CACHE_DIR=${INGEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ingest-service}
BIN_DIR="$CACHE_DIR/bin"

# shellcheck source=../versions.env
source "$HACK_DIR/versions.env"

# The settings below are read by the scripts that source this file.
# shellcheck disable=SC2034
{
# Ports of our own, well away from the services' defaults, so the stack never
# clashes with a PostgreSQL or Redis the machine already runs.
PG_PORT=${INGEST_PG_PORT:-55432}
REDIS_PORT=${INGEST_REDIS_PORT:-56379}
MINIO_PORT=${INGEST_MINIO_PORT:-59000}
MINIO_CONSOLE_PORT=${INGEST_MINIO_CONSOLE_PORT:-59001}
ETCD_PORT=${INGEST_ETCD_PORT:-52379}
ETCD_PEER_PORT=${INGEST_ETCD_PEER_PORT:-52380}
APISERVER_PORT=${INGEST_APISERVER_PORT:-56443}

# Local-only credentials: every service listens on 127.0.0.1 alone.
PG_USER=ingest
PG_PASSWORD=ingest-local
PG_DATABASE=ingest
MINIO_ROOT_USER=ingest-local
MINIO_ROOT_PASSWORD=ingest-local-secret
MINIO_BUCKET=ingest-local
}

mkdir -p "$STATE_DIR" "$BIN_DIR"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# require_cmd CMD HINT: fail with a message naming what is missing.
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed: $2"
}

# pid_alive FILE: true when FILE names a running process.
pid_alive() {
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# wait_for DESCRIPTION SECONDS COMMAND...: poll COMMAND until it succeeds.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
  log "$what is ready"
}

# start_daemon NAME LOGFILE COMMAND...: run COMMAND detached, pid in STATE_DIR.
start_daemon() {
  local name=$1 logfile=$2
  shift 2
  mkdir -p "$STATE_DIR/pids" "$(dirname "$logfile")"
  # setsid detaches it from this shell's process group, so that the caller
  # finishing (or a test runner's Ctrl-C) does not take the service down.
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$STATE_DIR/pids/$name.pid"
}

# stop_daemon NAME: stop the process recorded for NAME, by pid.
stop_daemon() {
  local name=$1 pidfile="$STATE_DIR/pids/$1.pid"
  if pid_alive "$pidfile"; then
    local pid
    pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# The path of a cached binary: NAME-VERSION under BIN_DIR.
cached_bin() { echo "$BIN_DIR/$1-$2"; }

# kubernetes_gomod: the path of k8s.io/kubernetes's own go.mod (downloaded).
kubernetes_gomod() {
  local mod
  mod=$(cd "$STATE_DIR" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  [[ -n "$mod" && -f "$mod" ]] || die "could not download the go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION"
  echo "$mod"
}
