# shellcheck shell=bash
# MinIO, built from source by hack/build-tools.sh, as a local process with its
# own data folder and port. Sourced by hack/stack.sh.

MINIO_DIR="$STATE_DIR/minio"

minio_env() {
  cat <<ENV
S3_ENDPOINT=http://127.0.0.1:$MINIO_PORT
S3_ACCESS_KEY=$MINIO_ROOT_USER
S3_SECRET_KEY=$MINIO_ROOT_PASSWORD
S3_BUCKET=$MINIO_BUCKET
S3_REGION=us-east-1
ENV
}

minio_status() {
  curl -fsS -o /dev/null "http://127.0.0.1:$MINIO_PORT/minio/health/live" 2>/dev/null
}

minio_up() {
  local bin
  bin=$(cached_bin minio "$MINIO_VERSION")
  [[ -x "$bin" ]] || "$HACK_DIR/build-tools.sh" minio
  if minio_status; then
    log "minio: already running on 127.0.0.1:$MINIO_PORT"
  else
    mkdir -p "$MINIO_DIR/data"
    log "minio: starting on 127.0.0.1:$MINIO_PORT"
    MINIO_ROOT_USER=$MINIO_ROOT_USER MINIO_ROOT_PASSWORD=$MINIO_ROOT_PASSWORD \
      MINIO_BROWSER=off MINIO_UPDATE=off \
      start_daemon minio "$MINIO_DIR/minio.log" "$bin" server --quiet \
      --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" "$MINIO_DIR/data"
    wait_for "minio" 60 minio_status || die "minio did not become healthy: see $MINIO_DIR/minio.log"
  fi
  # The demo's bucket; tests make their own. curl signs the request itself.
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD" -X PUT "http://127.0.0.1:$MINIO_PORT/$MINIO_BUCKET")
  [[ "$code" == 200 || "$code" == 409 ]] || die "could not create bucket $MINIO_BUCKET (HTTP $code)"
}

minio_down() {
  stop_daemon minio
}
