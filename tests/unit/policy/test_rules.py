"""The production policy's rules on values, as both the API and the operator apply them."""

from __future__ import annotations

import pytest

from ingest_policy.rules import (
    DEVELOPMENT_JWT_SECRET,
    JwtKeyProblem,
    is_minio_default_key,
    is_plain_http,
    jwt_key_problem,
    unsafe_origins,
)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", JwtKeyProblem.EMPTY),
        (DEVELOPMENT_JWT_SECRET, JwtKeyProblem.WELL_KNOWN),
        ("  SuperSecret\n", JwtKeyProblem.WELL_KNOWN),
        ("k7Qz2vXr9LmPq4Wn8TyB3cHd6F", JwtKeyProblem.SHORT),
        ("é" * 16, JwtKeyProblem.NOT_RANDOM),  # 32 bytes, one character
        ("abcabcabcabcabcabcabcabcabcabcabcabc", JwtKeyProblem.NOT_RANDOM),
        ("k7Qz2vXr9LmPq4Wn8TyB3cHd6FgJ1sAe", None),
    ],
)
def test_a_jwt_key_gets_its_first_problem(key: str, problem: JwtKeyProblem | None) -> None:
    assert jwt_key_problem(key) is problem


def test_origins_a_page_can_fake_or_read_in_clear() -> None:
    origins = ["https://app.example.com", "null", "http://app.example.com", "HTTPS://ok.example"]
    assert unsafe_origins(origins) == ["null", "http://app.example.com"]


def test_plain_http_and_minios_default_key() -> None:
    assert is_plain_http("HTTP://minio:9000")
    assert not is_plain_http("https://s3.amazonaws.com")
    assert is_minio_default_key("minioadmin")
    assert not is_minio_default_key("MinioAdmin-rotated")
