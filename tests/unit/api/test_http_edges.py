"""Pure pieces of the HTTP edge: client IPs behind proxies, request ids,
field names in validation errors, and input sanitising."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ingest_api.http.health import schema_problem
from ingest_api.http.middleware import accept_request_id
from ingest_api.http.problem import field_name
from ingest_api.http.rate_limit import client_ip, parse_networks
from ingest_api.jobs.schemas import JobCreate, sanitize_filename

TRUSTED = parse_networks(["10.0.0.0/8", "127.0.0.1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a client cannot spoof the left
        ("10.0.0.2", "198.51.100.1, 10.0.0.3", "198.51.100.1"),  # chained trusted proxies
        ("10.0.0.2", "10.0.0.9", "10.0.0.9"),
        ("10.0.0.2", "not-an-ip", "not-an-ip"),
        (None, "198.51.100.1", "unknown"),
    ],
)
def test_client_ip(peer: str | None, forwarded: str | None, expected: str) -> None:
    assert client_ip(peer, forwarded, TRUSTED) == expected


def test_request_ids_are_kept_when_plain_and_replaced_otherwise() -> None:
    assert accept_request_id("abc-123_DEF.4:5") == "abc-123_DEF.4:5"
    for bad in (None, "", "with space", "x" * 129, "new\nline", "ünï"):
        replaced = accept_request_id(bad)
        assert replaced != bad
        assert len(replaced) == 32


@pytest.mark.parametrize(
    ("location", "expected"),
    [(("body", "labels", "env"), "labels.env"), (("query", "limit"), "limit"), (("body",), "body")],
)
def test_field_names_drop_the_location(location: tuple[str, ...], expected: str) -> None:
    assert field_name(location) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("app.log", "app.log"),
        ("../../etc/passwd", "passwd"),
        ("C:\\fakepath\\app.log", "app.log"),
        ("  spaced.log  ", "spaced.log"),
        ("journal 2026-11-28.log.gz", "journal 2026-11-28.log.gz"),
    ],
)
def test_filenames_lose_their_folders(raw: str, expected: str) -> None:
    assert sanitize_filename(raw) == expected


@pytest.mark.parametrize("raw", ["bad\x00name", "tab\there", "dir/", "..", "x" * 256])
def test_unusable_filenames_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="must"):
        sanitize_filename(raw)


def test_schema_problem_says_what_to_run() -> None:
    assert schema_problem("0001", "0001") is None
    assert "run `ingest-migrate`" in (schema_problem(None, "0001") or "")
    assert "at revision 0000 but this code expects 0001" in (schema_problem("0000", "0001") or "")


@pytest.mark.parametrize(
    "labels",
    [
        {"env": "\ud800"},  # a lone surrogate: no UTF-8, and PostgreSQL refuses it
        {"env": "a\x00b"},
        {"env": "right\u202eto-left"},  # a bidi override spoofs what people read
        {"env": "line\u2028separator"},
        {"env\n": "x"},  # `$` would have let a trailing newline through
    ],
)
def test_labels_refuse_what_cannot_be_shown_or_stored(labels: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        JobCreate(filename="a.log", content_type="text/plain", size_bytes=1, labels=labels)


@pytest.mark.parametrize("raw", ["report\u202egol.exe", "a\ud800.log", "zero\u200bwidth.log"])
def test_file_names_refuse_format_and_surrogate_characters(raw: str) -> None:
    with pytest.raises(ValueError, match="format or surrogate"):
        sanitize_filename(raw)
