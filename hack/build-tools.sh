#!/usr/bin/env bash
# Build the programs the local stack runs, from the Go module proxy, once per
# version: etcd, kube-apiserver, kube-controller-manager, kubectl, helm, minio,
# prometheus and promtool.
#
#   hack/build-tools.sh            build whatever is missing
#   hack/build-tools.sh helm minio build (if missing) only these
#
# Binaries land in $CACHE_DIR/bin as NAME-VERSION; a second run finds them and
# builds nothing. A cold build takes many minutes on two cores.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

require_cmd go "install Go (https://go.dev/doc/install); the machine's Go builds every tool here"

# Upstream builds these statically; so do we (and it keeps them portable).
export CGO_ENABLED=0

kubernetes_tools=(kube-apiserver kube-controller-manager kubectl)

# with_heartbeat WHAT COMMAND...: run COMMAND, saying every 30 s that it is
# still at work: `go build` prints nothing for minutes on two cores.
with_heartbeat() {
  local what=$1
  shift
  "$@" &
  local pid=$! started=$SECONDS ticks=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    ticks=$((ticks + 1))
    if ((ticks % 6 == 0)) && kill -0 "$pid" 2>/dev/null; then
      log "still building $what ($((SECONDS - started)) s)"
    fi
  done
  wait "$pid"
}

# Build the kubernetes programs (and etcd) in a wrapper module: `go install
# k8s.io/kubernetes/cmd/...@vX` fails because that module replaces every
# staging module with ./staging/src/..., and a dependency's replace
# directives are ignored. The wrapper requires k8s.io/kubernetes and replaces
# each staging module with its published v0.Y.Z twin, read from that exact
# release's go.mod rather than from a list kept by hand.
build_kubernetes() {
  local missing=() tool
  for tool in "${kubernetes_tools[@]}"; do
    [[ -x $(cached_bin "$tool" "$KUBERNETES_VERSION") ]] || missing+=("$tool")
  done
  local want_etcd=0
  [[ -x $(cached_bin etcd "$ETCD_VERSION") ]] || want_etcd=1
  if ((${#missing[@]} == 0 && want_etcd == 0)); then
    log "kubernetes $KUBERNETES_VERSION and etcd $ETCD_VERSION: cached in $BIN_DIR"
    return
  fi

  local gomod required_etcd
  gomod=$(kubernetes_gomod)
  required_etcd=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' "$gomod")
  [[ "$required_etcd" == "$ETCD_VERSION" ]] ||
    die "k8s.io/kubernetes@$KUBERNETES_VERSION requires etcd $required_etcd but hack/versions.env pins $ETCD_VERSION"

  local minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  local wrapper="$CACHE_DIR/src/kubernetes-$KUBERNETES_VERSION"
  mkdir -p "$wrapper"
  log "writing the wrapper module in $wrapper (staging modules at $staging_version)"
  {
    echo "module local.invalid/kubernetes-tools"
    echo
    echo "go $(awk '$1 == "go" {print $2; exit}' "$gomod")"
    echo
    echo "require ("
    echo "	k8s.io/kubernetes $KUBERNETES_VERSION"
    echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo ")"
    echo
    echo "replace ("
    awk -v v="$staging_version" '$2 == "=>" && $3 ~ /^\.\/staging\// {printf "\t%s => %s %s\n", $1, $1, v}' "$gomod"
    echo ")"
  } >"$wrapper/go.mod"
  cat >"$wrapper/tools.go" <<'GO'
//go:build tools

// Package tools pins the main packages this wrapper module builds.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO

  log "resolving modules (go mod tidy; downloads a few hundred MB on a cold cache)"
  (cd "$wrapper" && go mod tidy) || die "go mod tidy failed in $wrapper: see the output above"

  # The version stamp upstream's hack/lib/version.sh sets; without it the
  # server reports v0.0.0, which helm's kubeVersion checks refuse.
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit=0000000000000000000000000000000000000000"
    ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done

  local out="$wrapper/out"
  mkdir -p "$out"
  for tool in "${missing[@]}"; do
    log "building $tool $KUBERNETES_VERSION (several minutes on two cores)"
    (cd "$wrapper" && with_heartbeat "$tool" go build -trimpath -ldflags "$ldflags" -o "$out/$tool" "k8s.io/kubernetes/cmd/$tool") ||
      die "building $tool $KUBERNETES_VERSION failed: see the output above"
    install -m 0755 "$out/$tool" "$(cached_bin "$tool" "$KUBERNETES_VERSION")"
  done
  if ((want_etcd)); then
    log "building etcd $ETCD_VERSION"
    (cd "$wrapper" && with_heartbeat etcd go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3) ||
      die "building etcd $ETCD_VERSION failed: see the output above"
    install -m 0755 "$out/etcd" "$(cached_bin etcd "$ETCD_VERSION")"
  fi
}

# go_install NAME MODULE/PACKAGE VERSION [LDFLAGS]: for modules without
# replace directives, `go install` at a pinned version is the whole recipe.
go_install() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:-}
  local target
  target=$(cached_bin "$name" "$version")
  if [[ -x "$target" ]]; then
    log "$name $version: cached in $BIN_DIR"
    return
  fi
  local gobin="$CACHE_DIR/src/$name-$version"
  mkdir -p "$gobin"
  log "building $name $version with go install (several minutes on two cores)"
  with_heartbeat "$name" env GOBIN="$gobin" go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version" ||
    die "go install $pkg@$version failed: see the output above"
  install -m 0755 "$gobin/$(basename "$pkg")" "$target"
}

build_helm() {
  go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
}

build_minio() {
  go_install minio github.com/minio/minio "$MINIO_VERSION"
}

# Prometheus and promtool check the shipped rules and dashboard against the
# metrics the services really export. A plain build serves the query API and
# evaluates rules; its web UI needs assets built with npm, which we skip.
build_prometheus() {
  local ldflags="-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v}"
  go_install promtool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION" "$ldflags"
  go_install prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" "$ldflags"
}

main() {
  local wanted=("$@")
  ((${#wanted[@]})) || wanted=(kubernetes helm minio prometheus)
  local what
  for what in "${wanted[@]}"; do
    case "$what" in
      kubernetes | etcd | kube-apiserver | kube-controller-manager | kubectl) build_kubernetes ;;
      helm) build_helm ;;
      minio) build_minio ;;
      prometheus | promtool) build_prometheus ;;
      *) die "unknown tool '$what' (known: kubernetes, helm, minio, prometheus)" ;;
    esac
  done
  log "tools ready in $BIN_DIR"
}

main "$@"
