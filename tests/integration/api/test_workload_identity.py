"""Kubernetes workload identity for real: the local kube-apiserver issues
ServiceAccount tokens (TokenRequest) and serves its discovery document and
keys; the API trusts the ServiceAccounts its settings name, and nothing else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from kubernetes import client as kube_client
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from tests.support.api import bearer, job_request, settings_with

AUDIENCE = "ingest-api"
BODY = b"a line\n"


def service_account_token(
    api: kube_client.ApiClient, namespace: str, name: str, audiences: list[str] | None
) -> str:
    """A token the API server issues for the ServiceAccount (TokenRequest)."""
    core = kube_client.CoreV1Api(api)
    spec = kube_client.V1TokenRequestSpec(audiences=audiences or [], expiration_seconds=600)
    answer = core.create_namespaced_service_account_token(
        name, namespace, kube_client.AuthenticationV1TokenRequest(spec=spec)
    )
    token: str = answer.status.token
    return token


@pytest.fixture
def accounts(kube_api: kube_client.ApiClient, namespace: str) -> str:
    core = kube_client.CoreV1Api(kube_api)
    for name in ("log-shipper", "dashboard", "stranger"):
        core.create_namespaced_service_account(
            namespace, kube_client.V1ServiceAccount(metadata=kube_client.V1ObjectMeta(name=name))
        )
    return namespace


@pytest.fixture
def cluster_client(
    settings: Settings,
    kube_api: kube_client.ApiClient,
    kubeconfig: str,
    accounts: str,
    tmp_path: Path,
) -> Iterator[TestClient]:
    # The API's own ServiceAccount token, as a pod has it mounted: the API
    # server lets ServiceAccounts (not anonymous callers) read its keys.
    token_file = tmp_path / "token"
    token_file.write_text(service_account_token(kube_api, accounts, "dashboard", None))
    cluster = {
        "api_server": kube_api.configuration.host,
        "ca_file": str(Path(kubeconfig).parent / "pki" / "ca.crt"),
        "token_file": str(token_file),
        "audience": AUDIENCE,
        "service_accounts": [
            {"namespace": accounts, "name": "log-shipper", "role": "uploader"},
            {"namespace": accounts, "name": "dashboard", "role": "viewer"},
        ],
    }
    trusting = settings_with(settings, kubernetes_identity=cluster)
    with TestClient(create_app(trusting), raise_server_exceptions=False) as client:
        yield client


def test_an_allowed_service_account_uploads_with_its_projected_token(
    cluster_client: TestClient, kube_api: kube_client.ApiClient, accounts: str
) -> None:
    token = bearer(service_account_token(kube_api, accounts, "log-shipper", [AUDIENCE]))
    me = cluster_client.get("/v1/users/me", headers=token)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == f"cluster:system:serviceaccount:{accounts}:log-shipper"
    assert me.json()["role"] == "uploader"
    job = cluster_client.post("/v1/jobs", json=job_request(BODY), headers=token)
    assert job.status_code == 201, job.text
    events = cluster_client.get(f"/v1/jobs/{job.json()['id']}/events", headers=token).json()
    assert events["data"][0]["via"] == "kubernetes:cluster"

    viewer = bearer(service_account_token(kube_api, accounts, "dashboard", [AUDIENCE]))
    assert cluster_client.get("/v1/jobs", headers=viewer).status_code == 200
    refused = cluster_client.post("/v1/jobs", json=job_request(BODY), headers=viewer)
    assert refused.status_code == 403


def test_a_token_for_another_audience_is_refused(
    cluster_client: TestClient, kube_api: kube_client.ApiClient, accounts: str
) -> None:
    for audiences in (["another-api"], None):  # None: the API server's own audience
        token = service_account_token(kube_api, accounts, "log-shipper", audiences)
        response = cluster_client.get("/v1/jobs", headers=bearer(token))
        assert response.status_code == 401, audiences
        assert "Audience doesn't match" in response.json()["detail"]


def test_a_service_account_not_allowed_is_forbidden(
    cluster_client: TestClient, kube_api: kube_client.ApiClient, accounts: str
) -> None:
    token = service_account_token(kube_api, accounts, "stranger", [AUDIENCE])
    response = cluster_client.get("/v1/jobs", headers=bearer(token))
    assert response.status_code == 403
    assert "grants this caller no role" in response.json()["detail"]


def test_an_expired_service_account_token_is_refused(
    cluster_client: TestClient, kube_api: kube_client.ApiClient, accounts: str, kubeconfig: str
) -> None:
    # The API server issues no token shorter than 10 minutes, so this one is
    # the real token's claims re-signed with the cluster's own signing key
    # (the key its JWKS publishes, under the same key id), expired a minute ago.
    real = service_account_token(kube_api, accounts, "log-shipper", [AUDIENCE])
    claims: dict[str, Any] = jwt.decode(real, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 900, nbf=now - 900, exp=now - 60)
    signing_key = (Path(kubeconfig).parent / "pki" / "sa.key").read_bytes()
    expired = jwt.encode(
        claims,
        signing_key,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(real)["kid"]},
    )
    response = cluster_client.get("/v1/jobs", headers=bearer(expired))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    # The same claims, unexpired and signed the same way, get in: the
    # refusal above is the expiry's alone.
    claims.update(exp=now + 300)
    fresh = jwt.encode(
        claims,
        signing_key,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(real)["kid"]},
    )
    assert cluster_client.get("/v1/jobs", headers=bearer(fresh)).status_code == 200
