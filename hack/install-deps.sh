#!/usr/bin/env bash
# Install what a fresh machine lacks to build and run the local stack and the
# tests: Debian packages (PostgreSQL, Redis, curl, openssl, shellcheck) and uv
# (the Python environment manager). Go must already be installed.
# Quick when everything is present: it installs only what is missing.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

debian_packages=(postgresql redis-server redis-tools curl openssl ca-certificates shellcheck)

missing_packages() {
  local pkg
  for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_debian_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    log "Debian packages: all present"
    return
  fi
  require_cmd apt-get "this script installs Debian packages; install these by hand: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    require_cmd sudo "run as root, or install these by hand: ${missing[*]}"
    sudo=(sudo)
  fi
  log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  # The packages' own services are not wanted: hack/stack.sh runs private
  # instances. policy-rc.d (exit 101) keeps the postinst scripts from
  # starting them where an init system exists.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

install_uv() {
  if command -v uv >/dev/null 2>&1; then
    log "uv: $(uv --version)"
    return
  fi
  require_cmd python3 "install Python 3.11 or newer"
  log "installing uv with pip"
  python3 -m pip install --quiet --disable-pip-version-check uv || die "pip install uv failed"
  command -v uv >/dev/null 2>&1 || die "uv was installed but is not on PATH (add Python's scripts folder to PATH)"
}

require_cmd go "install Go 1.24 or newer (https://go.dev/doc/install): the control plane, MinIO and helm are built from source"
install_debian_packages
install_uv
