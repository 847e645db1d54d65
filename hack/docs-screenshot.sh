#!/usr/bin/env bash
# Render /docs and /redoc in headless Chromium with every host but the API
# unreachable, as in an air-gapped cluster, and save screenshots.
#
#   hack/docs-screenshot.sh [OUT_DIR]     (needs chromium: apt-get install chromium)
#
# The API runs with its defaults: the pages need no database, Redis or S3
# (it answers 503 on /v1 without them, and serves its documentation). Any
# request to another host fails, so a page that still names a CDN renders
# empty: the screenshots show whether the documentation works offline, and
# the script fails unless both pages drew the API's title.

set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=${1:-$ROOT_DIR/.state/docs-screenshots}
PORT=${DOCS_PORT:-58123}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROMIUM ]]; then
    echo "chromium is not installed: apt-get install -y chromium" >&2
    exit 2
fi
mkdir -p "$OUT_DIR"

PORT=$PORT LOG_LEVEL=warning "$ROOT_DIR/.venv/bin/ingest-api" >"$OUT_DIR/api.log" 2>&1 &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.2
done

status=0
for page in docs redoc; do
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
        --virtual-time-budget=10000 --window-size=1280,1600 \
        --screenshot="$OUT_DIR/$page.png" "http://127.0.0.1:$PORT/$page" >/dev/null 2>&1
    "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
        --virtual-time-budget=10000 --dump-dom "http://127.0.0.1:$PORT/$page" \
        >"$OUT_DIR/$page.html" 2>/dev/null
    # Rendered, the page holds the title and operations from /openapi.json;
    # a page whose scripts did not load holds neither.
    if grep -q "Ingest Service" "$OUT_DIR/$page.html" && grep -q "/v1/jobs" "$OUT_DIR/$page.html"; then
        echo "/$page rendered offline: $OUT_DIR/$page.png"
    else
        echo "/$page did not render offline (see $OUT_DIR/$page.html)" >&2
        status=1
    fi
done
exit "$status"
