"""The users' whole path, exactly as the README's main command walks it
(hack/e2e.sh), in namespaces of its own: helm installs the operator, an
IngestService from examples/ becomes a running API and worker (run by the
local kubelet), ingestctl uploads a real log file and gets its result, and
the production examples are judged by the policy."""

from __future__ import annotations

from kubernetes import client as kube_client

from tests.e2e.conftest import E2ERun


def test_the_readme_main_path_end_to_end(e2e: E2ERun, kube_api: kube_client.ApiClient) -> None:
    output = e2e.output

    # The worked example: the uploaded file was processed by the deployed worker.
    assert "format syslog_rfc5424 (gzip), 5 lines: 5 parsed, 0 unparsed" in output
    assert "levels: info 2, error 1, warning 1, critical 1" in output
    assert "processing -> completed  worker:" in output
    records = e2e.work_dir / "checkout.ndjson.gz"
    assert records.exists()

    # The production policy: one example passes, two are refused, saying why.
    assert 'spec.cors.origins may not contain "*"' in output
    assert "PolicyCompliant=False: 3 production-policy violations" in output
    assert "is MinIO's default" in output

    custom = kube_client.CustomObjectsApi(kube_api)
    namespace = e2e.namespace
    logs = custom.get_namespaced_custom_object(
        "ingest.example.com", "v1alpha1", namespace, "ingestservices", "logs"
    )
    conditions = {c["type"]: c["status"] for c in logs["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    assert conditions["PolicyCompliant"] == "True"
    weak = custom.get_namespaced_custom_object(
        "ingest.example.com", "v1alpha1", namespace, "ingestservices", "logs-weak"
    )
    assert {c["type"]: c["status"] for c in weak["status"]["conditions"]}[
        "PolicyCompliant"
    ] == "False"
    # Nothing of the non-compliant one was rolled out.
    apps = kube_client.AppsV1Api(kube_api)
    rolled = apps.list_namespaced_deployment(
        namespace, label_selector="app.kubernetes.io/instance=logs-weak"
    )
    assert rolled.items == []
