#!/usr/bin/env bash
# The users' whole path on the local stack, as the README's main command runs
# it: helm installs the operator chart; Secrets and an IngestService from
# examples/ are applied; the operator renders its Job and Deployments; the
# local kubelet (hack/local_kubelet.py) runs them as local processes; then
# ingestctl logs in as the bootstrap admin, uploads a real log file, waits
# and prints the result. Last, the production examples: one passes the
# policy, two do not, and the output says why.
#
#   hack/e2e.sh          run it (idempotent: a second run reuses what is there)
#   hack/e2e.sh down     stop the local kubelet and the processes it runs
#
# E2E_NAMESPACE (demo), E2E_OPERATOR_NAMESPACE (ingest-system), E2E_RELEASE
# (ingest-operator), E2E_DATABASE (ingest_demo) and E2E_REDIS_DB (0; the
# production service takes the next one) let tests run it beside a demo, in
# namespaces and databases of their own.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

NS=${E2E_NAMESPACE:-demo}
OP_NS=${E2E_OPERATOR_NAMESPACE:-ingest-system}
DB=${E2E_DATABASE:-ingest_demo}
RELEASE=${E2E_RELEASE:-ingest-operator}
# The queue's Redis database, and the next one for the production service:
# one per deployment, or their workers would take each other's messages.
REDIS_DB=${E2E_REDIS_DB:-0}
REDIS_DB_PROD=$((REDIS_DB + 1))
WORK="$STATE_DIR/e2e-$NS"
KUBELET_PID="$STATE_DIR/pids/local-kubelet-$NS.pid"
mkdir -p "$WORK" "$STATE_DIR/pids"

if [[ "${1:-}" == down ]]; then
  stop_daemon "local-kubelet-$NS"
  exit 0
fi

"$HACK_DIR/stack.sh" up
# shellcheck disable=SC1091
set -a && source "$STATE_DIR/stack.env" && set +a
(cd "$ROOT_DIR" && uv sync --frozen --extra dev --quiet) || die "uv sync failed"
VENV_BIN="$ROOT_DIR/.venv/bin"
k() { "$KUBECTL" "$@"; }

step() { printf '\n\033[1;32m### %s\033[0m\n' "$*" >&2; }

step "namespaces $OP_NS (operator) and $NS (services)"
for namespace in "$OP_NS" "$NS"; do
  k get namespace "$namespace" >/dev/null 2>&1 || k create namespace "$namespace"
done

step "the local kubelet: runs the pods of $OP_NS and $NS as local processes"
if ! pid_alive "$KUBELET_PID"; then
  start_daemon "local-kubelet-$NS" "$WORK/local-kubelet.log" \
    "$VENV_BIN/python" "$HACK_DIR/local_kubelet.py" \
    --namespace "$OP_NS" --namespace "$NS" --state-dir "$WORK/kubelet"
fi

step "helm install the operator chart (watching $NS)"
crd_flags=()
if owner=$(k get crd ingestservices.ingest.example.com \
  -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-namespace}/{.metadata.annotations.meta\.helm\.sh/release-name}' 2>/dev/null) &&
  [[ "$owner" != "$OP_NS/$RELEASE" ]]; then
  # The CRD exists and another owns it (kubectl, or another release): one
  # release manages the CRD; this one leaves it as it is.
  crd_flags=(--set crds.install=false)
fi
"$HELM" upgrade --install "$RELEASE" "$ROOT_DIR/charts/ingest-operator" -n "$OP_NS" \
  --set "watchNamespaces={$NS}" "${crd_flags[@]}" --wait --timeout 180s
k -n "$OP_NS" get deploy,pods

step "Secrets for the services (connections to the local stack) in $NS"
for database in "$DB" "${DB}_prod"; do
  psql "$DATABASE_URL" -tAc "select 1 from pg_database where datname = '$database'" | grep -q 1 ||
    psql "$DATABASE_URL" -qc "create database \"$database\""
done
secret() {
  local name=$1
  shift
  # Labelled for the operator to watch: a rotation rolls the pods at once.
  k -n "$NS" create secret generic "$name" "$@" --dry-run=client -o yaml |
    k label --local -f - ingest.example.com/reload=true -o yaml | k apply -f - >/dev/null
  echo "secret/$name"
}
secret ingest-db --from-literal=url="${DATABASE_URL%/*}/$DB"
secret ingest-db-prod --from-literal=url="${DATABASE_URL%/*}/${DB}_prod"
secret ingest-redis --from-literal=url="${REDIS_URL%/*}/$REDIS_DB"
secret ingest-redis-prod --from-literal=url="${REDIS_URL%/*}/$REDIS_DB_PROD"
secret ingest-s3 --from-literal=accessKey="$S3_ACCESS_KEY" --from-literal=secretKey="$S3_SECRET_KEY"
secret ingest-admin --from-literal=username=admin --from-literal=password=demo-admin-password
k -n "$NS" get secret ingest-jwt >/dev/null 2>&1 ||
  secret ingest-jwt --from-literal=jwtSecretKey="$(openssl rand -base64 48)"
secret ingest-s3-default --from-literal=accessKey=minioadmin --from-literal=secretKey=minioadmin
secret ingest-jwt-weak --from-literal=jwtSecretKey=secret

# The local kubelet runs this checkout's code whatever image a pod names. A
# tag that follows the schema's revision makes the operator run the
# migration again when a checkout brings a new one, as a new image would
# (its Job is named after the image and the database).
SCHEMA_HEAD=$("$VENV_BIN/python" -c 'from ingest_api.migrations import head_revision; print(head_revision())')
apply_example() {
  # The examples name the demo's namespace and the local MinIO's default
  # address; this run's may differ (INGEST_MINIO_PORT).
  sed -e "s/namespace: demo/namespace: $NS/" \
    -e "s#endpoint: http://127.0.0.1:59000#endpoint: $S3_ENDPOINT#" \
    -e "s#image: \(registry.example.com/ingest-api:[^ ]*\)#image: \1-schema-$SCHEMA_HEAD#" \
    "$ROOT_DIR/examples/$1" | k apply -f -
}

step "apply examples/ingestservice-development.yaml and wait until it is Ready"
apply_example ingestservice-development.yaml
# A re-run on a changed checkout changes the spec (the image's tag): its Ready
# must be the operator's word on this spec, not the one before.
generation=$(k -n "$NS" get ingestservice/logs -o jsonpath='{.metadata.generation}')
k -n "$NS" wait ingestservice/logs --for=jsonpath='{.status.observedGeneration}'="$generation" \
  --timeout=120s
k -n "$NS" wait ingestservice/logs --for=condition=Ready --timeout=300s
# A new operator may roll the pods of an unchanged spec (a new checksum): let
# the rollout finish, so that ingestctl does not talk to a pod on its way out.
for deployment in logs-api logs-worker; do
  k -n "$NS" rollout status "deployment/$deployment" --timeout=300s
done
k -n "$NS" get ingestservice,deploy,jobs,pods

step "ingestctl: log in as the bootstrap admin, upload a real log file, wait, show the result"
# Ready can be an earlier run's word (the status of an IngestService whose
# pods stopped with `make down`, until the operator looks again), so the API
# pod itself must be ready before ingestctl talks to it.
ready_api_port() {
  "$VENV_BIN/python" - "$WORK/kubelet/endpoints.json" <<'PY'
import json, sys
try:
    endpoints = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
ready = [e["ports"]["http"] for name, e in endpoints.items() if "/logs-api-" in name and e["ready"]]
if not ready:
    sys.exit(1)
print(ready[0])
PY
}
wait_for "the API pod of ingestservice/logs" 180 ready_api_port ||
  die "no API pod of ingestservice/logs became ready in 180 s (see $WORK/kubelet)"
api_port=$(ready_api_port)
export INGESTCTL_CONFIG="$WORK/ingestctl.json"
echo demo-admin-password | "$VENV_BIN/ingestctl" login --url "http://127.0.0.1:$api_port" --username admin
"$VENV_BIN/ingestctl" upload "$ROOT_DIR/examples/logs/checkout.log.gz" --label source=e2e --wait
job_id=$("$VENV_BIN/ingestctl" list --json --limit 1 | "$VENV_BIN/python" -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
"$VENV_BIN/ingestctl" show "$job_id"
"$VENV_BIN/ingestctl" result "$job_id" --download "$WORK/checkout.ndjson.gz"

step "production: examples/ingestservice-production.yaml passes the policy"
apply_example ingestservice-production.yaml
k -n "$NS" wait ingestservice/logs-prod --for=condition=PolicyCompliant --timeout=120s
k -n "$NS" get ingestservice logs-prod
# spec.autoscaling: no KEDA here, so both Deployments get a HorizontalPodAutoscaler.
k -n "$NS" get horizontalpodautoscalers -l app.kubernetes.io/instance=logs-prod

step "not compliant: CORS '*' in production is refused at admission"
if output=$(apply_example ingestservice-production-open-cors.yaml 2>&1); then
  die "the API server accepted a production IngestService with CORS '*'"
fi
echo "refused: $output"

step "not compliant: MinIO's default keys and a weak JWT key are caught by the operator"
apply_example ingestservice-production-default-keys.yaml
k -n "$NS" wait ingestservice/logs-weak --for=condition=PolicyCompliant=False --timeout=120s
echo "PolicyCompliant=False: $(k -n "$NS" get ingestservice logs-weak \
  -o jsonpath='{.status.conditions[?(@.type=="PolicyCompliant")].message}')"
k -n "$NS" get events --field-selector involvedObject.name=logs-weak,type=Warning \
  -o custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message | head -n 3
k -n "$NS" get deploy -l app.kubernetes.io/instance=logs-weak 2>&1 | head -n 2

step "done"
cat >&2 <<DONE
The API of 'logs' answers at http://127.0.0.1:$api_port (docs at /docs);
ingestctl is logged in with INGESTCTL_CONFIG=$INGESTCTL_CONFIG.
Stop it all with: make down
DONE
