# shellcheck shell=bash
# Redis from Debian's packages, as a local process with its own data folder
# and port. Sourced by hack/stack.sh.

REDIS_DIR="$STATE_DIR/redis"

redis_env() {
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

redis_status() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

redis_up() {
  require_cmd redis-server "apt-get install redis-server"
  if redis_status; then
    log "redis: already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  mkdir -p "$REDIS_DIR" "$STATE_DIR/pids"
  log "redis: starting on 127.0.0.1:$REDIS_PORT"
  # The append-only file is on because tests restart Redis mid-flight and
  # expect the stream and its consumer groups to survive, as in production.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
    --save "" --appendonly yes --appendfsync everysec \
    --daemonize yes --pidfile "$STATE_DIR/pids/redis.pid" --logfile "$REDIS_DIR/redis.log" ||
    die "redis did not start: see $REDIS_DIR/redis.log"
  wait_for "redis ($(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'))" 30 redis_status ||
    die "redis did not answer PING: see $REDIS_DIR/redis.log"
}

redis_down() {
  stop_daemon redis
}

# A restart that loses every key, as a Redis without persistence (or with its
# volume lost) comes back: the fault the recovery tests and the soak inject.
redis_wipe() {
  redis_down
  log "redis: deleting its data"
  rm -rf "$REDIS_DIR/appendonlydir" "$REDIS_DIR/dump.rdb"
  redis_up
}
