"""/docs and /redoc work with no internet: their pages name no other host,
and every file they load is served by the API itself."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings

CLIENT = TestClient(create_app(Settings(_env_file=None)))  # type: ignore[call-arg]
# What a page loads: src, href and ReDoc's spec-url attributes, Swagger UI's url: '...'.
LOADED = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_docs_page_loads_nothing_from_another_host(page: str) -> None:
    html = CLIENT.get(page)
    assert html.status_code == 200
    assert not re.search(r"https?://", html.text), "the page names another host"

    loaded = [a or b for a, b in LOADED.findall(html.text)]
    assert "/openapi.json" in loaded
    for path in loaded:
        answer = CLIENT.get(path)
        assert answer.status_code == 200, path
        assert len(answer.content) > 100, path


def test_swagger_ui_is_version_5_which_renders_openapi_3_1() -> None:
    bundle = CLIENT.get("/static-offline-docs/swagger-ui-bundle.js").text
    assert CLIENT.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert re.search(r'PACKAGE_VERSION:"5\.\d+\.\d+"', bundle)
