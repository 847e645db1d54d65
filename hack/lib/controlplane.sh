# shellcheck shell=bash
# An envtest-style Kubernetes control plane as local processes: etcd,
# kube-apiserver (TLS from a generated CA, RBAC on) and kube-controller-manager
# (garbage collector, deployments, replica sets, namespaces, service accounts
# and the rest of its default controllers). No kubelet: pods are scheduled
# nowhere, which the tests and the local runner account for.
# Sourced by hack/stack.sh.

KUBE_DIR="$STATE_DIR/kube"
PKI_DIR="$KUBE_DIR/pki"
KUBECONFIG_PATH="$KUBE_DIR/kubeconfig"

controlplane_env() {
  cat <<ENV
KUBECONFIG=$KUBECONFIG_PATH
KUBECTL=$(cached_bin kubectl "$KUBERNETES_VERSION")
HELM=$(cached_bin helm "$HELM_VERSION")
PROMTOOL=$(cached_bin promtool "$PROMETHEUS_VERSION")
PROMETHEUS=$(cached_bin prometheus "$PROMETHEUS_VERSION")
ENV
}

controlplane_status() {
  [[ -f "$KUBECONFIG_PATH" ]] &&
    "$(cached_bin kubectl "$KUBERNETES_VERSION")" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=5s \
      get --raw /readyz >/dev/null 2>&1
}

# make_cert NAME SUBJECT [SAN]: a key and a certificate signed by our CA.
make_cert() {
  local name=$1 subject=$2 san=${3:-}
  [[ -f "$PKI_DIR/$name.crt" ]] && return
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$name.key" \
    -subj "$subject" -out "$PKI_DIR/$name.csr" 2>/dev/null
  local ext="$PKI_DIR/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "$san" ]]; then
      echo "extendedKeyUsage=serverAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr" "$ext"
}

make_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  if [[ ! -f "$PKI_DIR/ca.crt" ]]; then
    log "control plane: generating a CA, serving and client certificates in $PKI_DIR"
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/ca.key" -days 3650 \
      -subj "/CN=ingest-local-ca" -out "$PKI_DIR/ca.crt" 2>/dev/null
  fi
  make_cert apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # O=system:masters: the admin group RBAC lets do anything.
  make_cert admin "/O=system:masters/CN=ingest-admin"
  make_cert controller-manager "/CN=system:kube-controller-manager"
  if [[ ! -f "$PKI_DIR/sa.key" ]]; then
    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  fi
}

# write_kubeconfig FILE CERT-NAME: a kubeconfig for a client certificate.
write_kubeconfig() {
  local file=$1 name=$2
  cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: ingest-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/$name.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/$name.key")
contexts:
- name: ingest-local
  context:
    cluster: ingest-local
    user: $name
current-context: ingest-local
YAML
  chmod 600 "$file"
}

etcd_status() {
  curl -fsS -o /dev/null "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null
}

apiserver_status() {
  curl -fsS -o /dev/null --cacert "$PKI_DIR/ca.crt" \
    --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null
}

controlplane_up() {
  "$HACK_DIR/build-tools.sh" kubernetes helm
  local etcd apiserver kcm
  etcd=$(cached_bin etcd "$ETCD_VERSION")
  apiserver=$(cached_bin kube-apiserver "$KUBERNETES_VERSION")
  kcm=$(cached_bin kube-controller-manager "$KUBERNETES_VERSION")
  make_pki
  write_kubeconfig "$KUBECONFIG_PATH" admin
  write_kubeconfig "$KUBE_DIR/controller-manager.kubeconfig" controller-manager

  if etcd_status; then
    log "etcd: already running on 127.0.0.1:$ETCD_PORT"
  else
    log "etcd $ETCD_VERSION: starting on 127.0.0.1:$ETCD_PORT"
    # --unsafe-no-fsync: a throwaway test store, as envtest runs it.
    start_daemon etcd "$KUBE_DIR/etcd.log" "$etcd" --name local --data-dir "$KUBE_DIR/etcd" \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level warn
    wait_for etcd 60 etcd_status || die "etcd did not become healthy: see $KUBE_DIR/etcd.log"
  fi

  if apiserver_status; then
    log "kube-apiserver: already running on 127.0.0.1:$APISERVER_PORT"
  else
    log "kube-apiserver $KUBERNETES_VERSION: starting on 127.0.0.1:$APISERVER_PORT"
    # --advertise-address: without it a machine with no default route fails
    # with "Unable to find suitable network address".
    # OwnerReferencesPermissionEnforcement: as OpenShift and hardened clusters
    # run it, so that an RBAC gap for blockOwnerDeletion fails here too.
    start_daemon kube-apiserver "$KUBE_DIR/kube-apiserver.log" "$apiserver" \
      --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
      --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
      --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
      --client-ca-file "$PKI_DIR/ca.crt" --authorization-mode RBAC \
      --enable-admission-plugins OwnerReferencesPermissionEnforcement \
      --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true \
      --service-account-issuer https://kubernetes.default.svc.cluster.local \
      --service-account-key-file "$PKI_DIR/sa.pub" --service-account-signing-key-file "$PKI_DIR/sa.key" \
      --cert-dir "$KUBE_DIR/apiserver-certs" --v 0
    wait_for kube-apiserver 120 apiserver_status || die "kube-apiserver did not become ready: see $KUBE_DIR/kube-apiserver.log"
  fi

  if pid_alive "$STATE_DIR/pids/kube-controller-manager.pid"; then
    log "kube-controller-manager: already running"
  else
    log "kube-controller-manager $KUBERNETES_VERSION: starting"
    start_daemon kube-controller-manager "$KUBE_DIR/kube-controller-manager.log" "$kcm" \
      --kubeconfig "$KUBE_DIR/controller-manager.kubeconfig" \
      --authentication-kubeconfig "$KUBE_DIR/controller-manager.kubeconfig" \
      --authorization-kubeconfig "$KUBE_DIR/controller-manager.kubeconfig" \
      --leader-elect=false --controllers '*' --use-service-account-credentials=true \
      --service-account-private-key-file "$PKI_DIR/sa.key" --root-ca-file "$PKI_DIR/ca.crt" \
      --bind-address 127.0.0.1 --secure-port 0 --v 0
    sleep 1
    pid_alive "$STATE_DIR/pids/kube-controller-manager.pid" ||
      die "kube-controller-manager exited at once: see $KUBE_DIR/kube-controller-manager.log"
  fi
  log "control plane: ready (KUBECONFIG=$KUBECONFIG_PATH)"
}

controlplane_down() {
  stop_daemon kube-controller-manager
  stop_daemon kube-apiserver
  stop_daemon etcd
}
