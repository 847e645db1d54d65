"""There is always an active admin: the last one can be neither demoted nor
disabled, and a bootstrap name taken by another user is a clear log line at
start-up, not a crash."""

from __future__ import annotations

import psycopg
import pytest
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from tests.support.api import ADMIN_PASSWORD, ADMIN_USERNAME, admin, login, make_user


@pytest.mark.parametrize("change", [{"role": "uploader"}, {"is_active": False}])
def test_the_last_active_admin_can_be_neither_demoted_nor_disabled(
    client: TestClient, change: dict[str, object]
) -> None:
    me = admin(client)

    refused = client.patch(f"/v1/users/{me.id}", json=change, headers=me.headers)

    assert refused.status_code == 409
    assert "last active admin" in refused.json()["detail"]
    assert client.get("/v1/users/me", headers=me.headers).json()["role"] == "admin"


def test_an_admin_may_go_while_another_remains(client: TestClient) -> None:
    first = admin(client)
    second = make_user(client, "admin")

    demoted = client.patch(
        f"/v1/users/{first.id}", json={"role": "uploader"}, headers=second.headers
    )
    last = client.patch(f"/v1/users/{second.id}", json={"is_active": False}, headers=second.headers)

    assert demoted.status_code == 200, demoted.text
    assert last.status_code == 409


def test_a_bootstrap_name_held_by_a_non_admin_is_logged_and_the_api_serves(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(settings)) as client:
        bootstrap = admin(client)
    # Out of band (the API refuses it): the only admin became an uploader.
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("UPDATE users SET role = 'uploader' WHERE id = %s", (bootstrap.id,))
    capsys.readouterr()

    with TestClient(create_app(settings)) as restarted:
        alive = restarted.get("/healthz")
        me = login(restarted, ADMIN_USERNAME, ADMIN_PASSWORD)

    assert alive.status_code == 200
    logged = capsys.readouterr().out
    assert "bootstrap admin not created" in logged
    assert f"the bootstrap admin's name '{ADMIN_USERNAME}' belongs to a user" in logged
    assert me["access_token"]  # the user was left as it was, not replaced
