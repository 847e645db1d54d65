"""An unprivileged user of the local API server: a client certificate signed by the
stack's CA, a kubeconfig for it, and questions the API server answers about it.

The operator's RBAC manifests are proven by running the operator as such a
user, bound to nothing but them.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as kube_client
from kubernetes import config as kube_config

from tests.support.cluster import Cluster


def make_user_kubeconfig(admin_kubeconfig: str, user: str, directory: Path) -> Path:
    """A kubeconfig for `user` (the certificate's CN), with no group, hence no rights.

    The certificate is signed by the CA the stack's API server trusts for
    clients ($INGEST_STATE_DIR/kube/pki/ca.{crt,key}, next to the admin
    kubeconfig). A random serial keeps openssl from writing next to the CA.
    """
    pki = Path(admin_kubeconfig).parent / "pki"
    key, csr, cert, ext = (
        directory / f"{user}.{suffix}" for suffix in ("key", "csr", "crt", "ext")
    )
    ext.write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=clientAuth\n"
    )
    request = ["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes"]
    subprocess.run(
        [*request, "-keyout", str(key), "-subj", f"/CN={user}", "-out", str(csr)],
        check=True,
        capture_output=True,
    )
    sign = ["openssl", "x509", "-req", "-days", "1", "-sha256", "-extfile", str(ext)]
    authority = ["-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key")]
    serial = ["-set_serial", str(secrets.randbits(63))]
    subprocess.run(
        [*sign, *authority, *serial, "-in", str(csr), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    admin = yaml.safe_load(Path(admin_kubeconfig).read_text())
    cluster_entry = admin["clusters"][0]
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster_entry],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": base64.b64encode(cert.read_bytes()).decode(),
                    "client-key-data": base64.b64encode(key.read_bytes()).decode(),
                },
            }
        ],
        "contexts": [{"name": user, "context": {"cluster": cluster_entry["name"], "user": user}}],
        "current-context": user,
    }
    path = directory / f"{user}.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    path.chmod(0o600)
    return path


def user_cluster(kubeconfig: Path) -> Cluster:
    api: kube_client.ApiClient = kube_config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig)
    )
    return Cluster(api)


def can_i(cluster: Cluster, verb: str, resource: str, namespace: str, group: str = "") -> bool:
    """What the API server's authorizer says this client may do (SelfSubjectAccessReview)."""
    review: dict[str, Any] = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "verb": verb,
                "group": group,
                "resource": resource,
                "namespace": namespace,
            }
        },
    }
    answer = cluster.request(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review
    )
    return bool(answer["status"].get("allowed"))
