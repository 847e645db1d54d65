#!/usr/bin/env bash
# The local stack without Docker: PostgreSQL, Redis, MinIO and a Kubernetes
# control plane, each a local process on loopback with its state under
# .state/ (git-ignored).
#
#   hack/stack.sh up [COMPONENT...]      start (or reuse) components; all by default
#   hack/stack.sh down [COMPONENT...]    stop what `up` started, by pid
#   hack/stack.sh status [COMPONENT...]  say what is running; exit 1 if any is not
#   hack/stack.sh env [COMPONENT...]     print the settings clients need (KEY=value)
#   hack/stack.sh wipe redis             restart Redis without its data (a fault to test)
#
# COMPONENT is one of: postgres redis minio controlplane.
# `up` is idempotent: a second run reuses whatever already answers. It also
# writes .state/stack.env, which `make` targets and the tests read.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/postgres.sh
source "$HACK_DIR/lib/postgres.sh"
# shellcheck source=lib/redis.sh
source "$HACK_DIR/lib/redis.sh"
# shellcheck source=lib/minio.sh
source "$HACK_DIR/lib/minio.sh"
# shellcheck source=lib/controlplane.sh
source "$HACK_DIR/lib/controlplane.sh"

ALL_COMPONENTS=(postgres redis minio controlplane)

check_component() {
  case "$1" in
    postgres | redis | minio | controlplane) ;;
    *) die "unknown component '$1' (known: ${ALL_COMPONENTS[*]})" ;;
  esac
}

write_stack_env() {
  local component
  {
    echo "# Written by hack/stack.sh up; settings for clients of the local stack."
    for component in "${ALL_COMPONENTS[@]}"; do
      "${component}_env"
    done
  } >"$STATE_DIR/stack.env"
}

main() {
  local verb=${1:-}
  [[ -n "$verb" ]] || die "usage: hack/stack.sh up|down|status|env|wipe [COMPONENT...]"
  shift
  local components=("$@") component
  ((${#components[@]})) || components=("${ALL_COMPONENTS[@]}")
  for component in "${components[@]}"; do check_component "$component"; done

  case "$verb" in
    up)
      for component in "${components[@]}"; do "${component}_up"; done
      write_stack_env
      log "stack is up; settings in $STATE_DIR/stack.env"
      ;;
    down)
      local reversed=()
      for component in "${components[@]}"; do reversed=("$component" "${reversed[@]}"); done
      for component in "${reversed[@]}"; do "${component}_down"; done
      ;;
    status)
      local failed=0
      for component in "${components[@]}"; do
        if "${component}_status"; then
          printf '%-13s running\n' "$component"
        else
          printf '%-13s not running\n' "$component"
          failed=1
        fi
      done
      return "$failed"
      ;;
    env)
      for component in "${components[@]}"; do "${component}_env"; done
      ;;
    wipe)
      for component in "${components[@]}"; do
        declare -F "${component}_wipe" >/dev/null || die "only redis can be wiped, not $component"
        "${component}_wipe"
      done
      ;;
    *) die "unknown verb '$verb' (up, down, status, env, wipe)" ;;
  esac
}

main "$@"
