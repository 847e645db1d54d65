"""Fixtures of the API and worker tests: a migrated database per test (cloned from a
template migrated once per session), settings for the local stack, and a
client of the real application with its lifespan (relay included) running."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from ingest_api.migrations import upgrade
from tests.conftest import unique_name
from tests.support.api import api_settings
from tests.support.local_stack import Component


def _database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def migrated_template(postgres_service: Component) -> Iterator[str]:
    """A database migrated to head, the template of each test's database."""
    admin_url = postgres_service.settings["DATABASE_URL"]
    name = unique_name("template").replace("-", "_")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(_database_url(admin_url, name))
    yield name
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_database_url(postgres_service: Component, migrated_template: str) -> Iterator[str]:
    """A fresh database at the current schema, for this test alone."""
    admin_url = postgres_service.settings["DATABASE_URL"]
    name = unique_name("test").replace("-", "_")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    yield _database_url(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(
    migrated_database_url: str, redis_url: str, minio_service: Component, s3_bucket: str
) -> Settings:
    return api_settings(
        database_url=migrated_database_url,
        redis_url=redis_url,
        s3=minio_service.settings,
        bucket=s3_bucket,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client
