#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build the tools
# (cached after the first run), bring the local stack up, then walk the
# users' whole path (hack/e2e.sh): the operator installed with helm, an
# IngestService applied, its services running, a log file uploaded with
# ingestctl and its result shown, and the production policy at work.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

"$HACK_DIR/install-deps.sh"
"$HACK_DIR/build-tools.sh"
"$HACK_DIR/stack.sh" up
"$HACK_DIR/stack.sh" status
"$HACK_DIR/e2e.sh"
