#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build the tools
# (cached after the first run), bring the local stack up and show that each
# piece is healthy and real.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

"$HACK_DIR/install-deps.sh"
"$HACK_DIR/build-tools.sh"
"$HACK_DIR/stack.sh" up

# shellcheck disable=SC1091
set -a && source "$STATE_DIR/stack.env" && set +a

log "PostgreSQL: $(psql "$DATABASE_URL" -tAc 'select version()')"
log "Redis: $(redis-cli -u "$REDIS_URL" info server | sed -n 's/^redis_version://p' | tr -d '\r')"
log "MinIO: $(curl -fsS -o /dev/null -w 'health %{http_code}' "$S3_ENDPOINT/minio/health/live") at $S3_ENDPOINT"
log "kube-apiserver: $("$KUBECTL" version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -n 1), /readyz $("$KUBECTL" get --raw /readyz)"
"$KUBECTL" get namespaces
log "helm: $("$HELM" version --short)"
"$HACK_DIR/stack.sh" status
log "the stack is up. Use it with: set -a; source $STATE_DIR/stack.env; set +a"
log "stop it with: make down"
