"""Fixtures shared by every suite.

Session fixtures bring up (or reuse) the real PostgreSQL, Redis, MinIO and
Kubernetes control plane through hack/stack.sh; function fixtures give each
test its own database, Redis database, bucket and namespace, and remove them
afterwards. Tests under tests/unit get the `unit` marker and need none of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import psycopg
import pytest
import redis
from botocore.config import Config
from kubernetes import client as kube_client
from kubernetes import config as kube_config

from tests.support.local_stack import Component, ensure_up, tear_down

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its suite folder, so `-m unit` and friends select."""
    for item in items:
        suite = Path(item.path).relative_to(TESTS_DIR).parts[0]
        if suite in {"unit", "integration", "e2e"}:
            item.add_marker(getattr(pytest.mark, suite))


def unique_name(prefix: str) -> str:
    """A DNS-1123 friendly name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --- the components ---------------------------------------------------------


def _component(name: str) -> Iterator[Component]:
    component = ensure_up(name)
    yield component
    tear_down(component)


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[Component]:
    yield from _component("postgres")


@pytest.fixture(scope="session")
def redis_service() -> Iterator[Component]:
    yield from _component("redis")


@pytest.fixture(scope="session")
def minio_service() -> Iterator[Component]:
    yield from _component("minio")


@pytest.fixture(scope="session")
def kube_service() -> Iterator[Component]:
    yield from _component("controlplane")


# --- a clean slice of each for every test -----------------------------------


@pytest.fixture
def database_url(postgres_service: Component) -> Iterator[str]:
    """A fresh, empty database for this test (psycopg URL), dropped afterwards."""
    admin_url = postgres_service.settings["DATABASE_URL"]
    name = unique_name("test").replace("-", "_")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Redis database 0 belongs to the demo; the tests use the last one and flush
# it before each test, so no test sees another's keys.
TEST_REDIS_DB = 15


@pytest.fixture
def redis_url(redis_service: Component) -> str:
    """The URL of an empty Redis database for this test."""
    url = redis_service.settings["REDIS_URL"].rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}"
    with redis.Redis.from_url(url) as conn:
        conn.flushdb()
    return url


@pytest.fixture
def s3_client(minio_service: Component) -> S3Client:
    settings = minio_service.settings
    return boto3.client(
        "s3",
        endpoint_url=settings["S3_ENDPOINT"],
        aws_access_key_id=settings["S3_ACCESS_KEY"],
        aws_secret_access_key=settings["S3_SECRET_KEY"],
        region_name=settings["S3_REGION"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture
def s3_bucket(s3_client: S3Client) -> Iterator[str]:
    """A new, empty bucket for this test, emptied and removed afterwards."""
    bucket = unique_name("test")
    s3_client.create_bucket(Bucket=bucket)
    yield bucket
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            s3_client.delete_object(Bucket=bucket, Key=item["Key"])
    s3_client.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="session")
def kubeconfig(kube_service: Component) -> str:
    return kube_service.settings["KUBECONFIG"]


@pytest.fixture(scope="session")
def kube_api(kubeconfig: str) -> Iterator[kube_client.ApiClient]:
    """An admin client of the local kube-apiserver."""
    api = kube_config.new_client_from_config(config_file=kubeconfig)
    yield api
    api.close()


@pytest.fixture
def namespace(kube_api: kube_client.ApiClient) -> Iterator[str]:
    """A new namespace for this test, deleted afterwards (without waiting)."""
    name = unique_name("test")
    core = kube_client.CoreV1Api(kube_api)
    core.create_namespace(kube_client.V1Namespace(metadata=kube_client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)
