"""Child names stay valid DNS labels; labels stay valid label values."""

from __future__ import annotations

import re

import pytest

from ingest_operator import naming

DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


DATABASE_DIGEST = "d" * 64


def test_the_longest_allowed_name_gives_valid_child_names() -> None:
    name = "a" * naming.MAX_NAME_LENGTH
    image = "registry.example.com/ingest-api:1.4.2"
    migration = naming.migration_job_name(name, image, DATABASE_DIGEST)
    children = [
        naming.api_name(name),
        naming.worker_name(name),
        naming.config_map_name(name),
        naming.generated_secret_name(name),
        migration,
    ]
    for child in children:
        assert len(child) <= 63, child
        assert DNS_LABEL.match(child), child
    # The cap is tight: the Job's name uses all 63 characters.
    assert len(migration) == 63


def test_the_migration_job_name_depends_on_the_image_and_the_database() -> None:
    first = naming.migration_job_name("demo", "r.example.com/i:1", DATABASE_DIGEST)

    assert first == naming.migration_job_name("demo", "r.example.com/i:1", DATABASE_DIGEST)
    assert first != naming.migration_job_name("demo", "r.example.com/i:2", DATABASE_DIGEST)
    assert first != naming.migration_job_name("demo", "r.example.com/i:1", "e" * 64)
    assert re.fullmatch("demo-migrate-[0-9a-f]{8}", first)


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("registry.example.com/ingest-api:1.4.2", "1.4.2"),
        ("registry.example.com:5000/ingest-api:v2_rc.1", "v2_rc.1"),
        ("ingest-api@sha256:" + "ab" * 32, ("sha256-" + "ab" * 32)[:63]),
        ("registry.example.com:5000/ingest-api", "unknown"),
        ("ingest-api:" + "x" * 100, "x" * 63),
    ],
)
def test_the_version_label_comes_from_the_tag_or_digest(image: str, version: str) -> None:
    value = naming.version_label_value(image)
    assert value == version
    assert LABEL_VALUE.match(value)


def test_the_selector_is_a_subset_of_the_standard_labels() -> None:
    labels = naming.standard_labels("demo", naming.Component.API, "r/i:1")
    selector = naming.selector_labels("demo", naming.Component.API)
    assert selector.items() <= labels.items()
    assert naming.LABEL_VERSION not in selector
    assert naming.instance_selector("demo") == (
        "app.kubernetes.io/instance=demo,app.kubernetes.io/managed-by=ingest-operator"
    )
