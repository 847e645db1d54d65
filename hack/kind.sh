#!/usr/bin/env bash
# The path for users WITH Docker (not exercised by this project's CI, whose
# machines have no container engine): a kind cluster, the two images built
# and loaded into it, the operator chart installed, an example applied.
#
#   hack/kind.sh        create (or reuse) the cluster `ingest` and deploy
#   hack/kind.sh down   delete the cluster
#
# Needs docker, kind, kubectl and helm on PATH. The example's Secrets must
# point at a PostgreSQL, a Redis and an S3 the cluster can reach; this script
# creates them from DATABASE_URL, REDIS_URL, S3_ENDPOINT, S3_ACCESS_KEY and
# S3_SECRET_KEY in your environment.
set -euo pipefail
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER=${KIND_CLUSTER:-ingest}
TAG=${IMAGE_TAG:-dev}
NS=${NAMESPACE:-demo}

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done

if [[ "${1:-}" == down ]]; then
  kind delete cluster --name "$CLUSTER"
  exit 0
fi
: "${DATABASE_URL:?set DATABASE_URL (reachable from the cluster)}"
: "${REDIS_URL:?set REDIS_URL}"
: "${S3_ENDPOINT:?set S3_ENDPOINT}"
: "${S3_ACCESS_KEY:?set S3_ACCESS_KEY}"
: "${S3_SECRET_KEY:?set S3_SECRET_KEY}"

kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER"
docker build -f "$ROOT_DIR/Dockerfile.api" -t "ingest-api:$TAG" "$ROOT_DIR"
docker build -f "$ROOT_DIR/Dockerfile.operator" -t "ingest-operator:$TAG" "$ROOT_DIR"
kind load docker-image --name "$CLUSTER" "ingest-api:$TAG" "ingest-operator:$TAG"

kubectl get namespace "$NS" >/dev/null 2>&1 || kubectl create namespace "$NS"
helm upgrade --install ingest-operator "$ROOT_DIR/charts/ingest-operator" \
  -n ingest-system --create-namespace \
  --set image.repository=ingest-operator --set image.tag="$TAG" --set image.pullPolicy=Never \
  --wait --timeout 5m

secret() {
  local name=$1
  shift
  kubectl -n "$NS" create secret generic "$name" "$@" --dry-run=client -o yaml | kubectl apply -f -
}
secret ingest-db --from-literal=url="$DATABASE_URL"
secret ingest-redis --from-literal=url="$REDIS_URL"
secret ingest-s3 --from-literal=accessKey="$S3_ACCESS_KEY" --from-literal=secretKey="$S3_SECRET_KEY"
secret ingest-admin --from-literal=username=admin --from-literal=password="${ADMIN_PASSWORD:-change-this-password}"

sed -e "s/namespace: demo/namespace: $NS/" \
  -e "s|image: registry.example.com/ingest-api:0.1.0|image: ingest-api:$TAG|" \
  -e "s|endpoint: http://127.0.0.1:59000|endpoint: $S3_ENDPOINT|" \
  "$ROOT_DIR/examples/ingestservice-development.yaml" | kubectl apply -f -
kubectl -n "$NS" wait ingestservice/logs --for=condition=Ready --timeout=5m
echo "Ready. Reach the API with: kubectl -n $NS port-forward svc/logs-api 8000:80"
