"""Properties of processing on any input, found by hypothesis rather than listed.

- every format's parser takes any line and returns records, never raises;
- `process_stream` on any bytes, compressed or not, returns a summary or
  raises a `ProcessingError`, nothing else;
- the result does not depend on how the source is cut into chunks;
- the summary and every output record are JSON that jsonb accepts.

Lines are drawn from a grammar of log-like fragments (timestamps of any
year and zone, numbers of any size, deep nesting, escapes, NUL and lone
surrogates, separators), since wholly random bytes rarely get past the
text check into a parser.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from backports import zstd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest_api.core.storable import is_storable
from ingest_api.processing import ProcessingError, process_stream
from ingest_api.processing.formats import parser_for
from ingest_api.processing.models import LogFormat
from ingest_api.processing.splitting import LineBatch
from tests.support.log_files import REFERENCE_TIME, gzipped, process
from tests.support.storable import assert_storable

# Shared machines are noisy: no per-example deadline, and few enough
# examples that the suite stays quick; hypothesis keeps the failures it finds.
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

zones = st.one_of(
    st.just(UTC),
    st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23)).map(
        timezone
    ),
)
moments = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=zones
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**18, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
)
# Any text, with what breaks storage and parsers made likely.
texts = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028", "\u202e", '"', "\\", "=", "[", "]"]),
    ),
    max_size=40,
)
iso_times = moments.map(lambda moment: moment.isoformat())
depths = st.one_of(st.integers(min_value=0, max_value=50), st.sampled_from([999, 1000, 5000]))
fragments = st.one_of(
    texts,
    iso_times,
    numbers.map(str),
    # Digits past int()'s 4,300, and nesting past the recursion limit.
    st.integers(min_value=4000, max_value=6000).map(lambda count: "7" * count),
    depths.map(lambda depth: "[" * depth + "]" * depth),
    st.sampled_from(["\\u0000", "\\ud800", "\\x41", '\\"', "NaN", "1e999", "-", "<34>", "<999>1"]),
)


def _json_line(values: dict[str, object]) -> str:
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in values.items()) + "}"


json_values = st.one_of(
    iso_times.map(json.dumps),
    numbers.map(lambda n: "1e999" if isinstance(n, float) and n != n else repr(n)),
    texts.map(lambda text: json.dumps(text, ensure_ascii=True)),
    fragments,
)
json_lines = st.dictionaries(
    st.sampled_from(["ts", "time", "timestamp", "level", "msg", "message", "k\\u0000", "x"]),
    json_values,
    max_size=5,
).map(_json_line)
logfmt_lines = st.lists(
    st.tuples(st.sampled_from(["ts", "level", "msg", "k"]), fragments), max_size=5
).map(
    lambda pairs: " ".join(
        f'{key}="{value}"' if " " in value else f"{key}={value}" for key, value in pairs
    )
)
syslog_lines = st.builds(
    lambda pri, stamp, rest: f"<{pri}>1 {stamp} host app - - - {rest}",
    st.integers(min_value=0, max_value=999),
    iso_times,
    fragments,
)
access_lines = st.builds(
    lambda day, year, zone, rest: (
        f'1.2.3.4 - - [{day:02d}/Jan/{year:04d}:00:00:00 {zone}] "GET / HTTP/1.1" 200 {rest}'
    ),
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=9999),
    st.sampled_from(["+0100", "-0100", "+2359", "-9999", "+0000"]),
    fragments,
)
plain_lines = st.builds(lambda stamp, rest: f"{stamp} ERROR {rest}", iso_times, fragments)
log_lines = st.one_of(json_lines, logfmt_lines, syslog_lines, access_lines, plain_lines, texts)


def _encoded(line: str) -> bytes:
    # Lone surrogates cannot be UTF-8; written raw they become bytes a
    # decoder replaces, as a client's broken encoder would leave them.
    return line.encode("utf-8", "surrogatepass")


log_files = st.lists(log_lines, min_size=1, max_size=30).map(
    lambda lines: b"".join(_encoded(line) + b"\n" for line in lines)
)


@pytest.mark.parametrize("log_format", list(LogFormat))
@PROPERTY_SETTINGS
@given(lines=st.lists(log_lines, min_size=1, max_size=20))
def test_every_parser_takes_any_line(log_format: LogFormat, lines: list[str]) -> None:
    parser = parser_for(log_format, reference_time=REFERENCE_TIME)
    batch = LineBatch(1, [_encoded(line) for line in lines], frozenset())

    records = parser.parse(batch)  # no guard: a parser must not raise on its own

    assert [record.line for record in records] == sorted({record.line for record in records})
    assert all(1 <= record.line <= len(lines) for record in records)


def _run(data: bytes, chunk_size: int | None = None) -> tuple[dict[str, object], bytes] | str:
    parts: list[bytes] = []
    source = io.BytesIO(data) if chunk_size is None else _chunks(data, chunk_size)
    try:
        summary = process_stream(source, parts.append, reference_time=REFERENCE_TIME)
    except ProcessingError as error:
        return error.code
    return summary.to_dict() | {"bytes_out": 0}, gzip.decompress(b"".join(parts))


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def _assert_storable_result(result: tuple[dict[str, object], bytes] | str) -> None:
    if isinstance(result, str):
        return
    summary, output = result
    assert_storable(summary)
    output.decode("utf-8")
    for line in output.splitlines():
        record = msgspec.json.decode(line)
        assert_storable(record)


@PROPERTY_SETTINGS
@given(data=st.binary(max_size=4096), compression=st.sampled_from(["none", "gzip", "zstd"]))
def test_any_bytes_give_a_summary_or_a_processing_error(data: bytes, compression: str) -> None:
    if compression == "gzip":
        data = gzipped(data)
    elif compression == "zstd":
        data = zstd.compress(data)

    _assert_storable_result(_run(data))


@PROPERTY_SETTINGS
@given(data=log_files, compression=st.sampled_from(["none", "gzip", "zstd"]))
def test_any_log_like_file_gives_a_storable_result(data: bytes, compression: str) -> None:
    if compression == "gzip":
        data = gzipped(data, members=2)
    elif compression == "zstd":
        data = zstd.compress(data)

    result = _run(data)

    _assert_storable_result(result)
    if not isinstance(result, str):
        summary = result[0]
        assert summary["lines"] == (
            summary["parsed_lines"] + summary["unparsed_lines"] + summary["blank_lines"]  # type: ignore[operator]
        )


@PROPERTY_SETTINGS
@given(data=log_files, chunk_size=st.integers(min_value=1, max_value=700))
def test_the_result_does_not_depend_on_the_chunking(data: bytes, chunk_size: int) -> None:
    assert _run(data, chunk_size) == _run(data)


@PROPERTY_SETTINGS
@given(data=log_files)
def test_a_gzip_file_and_its_content_give_the_same_records(data: bytes) -> None:
    plain, compressed = _run(data), _run(gzipped(data, members=3))

    if isinstance(plain, str) or isinstance(compressed, str):
        assert plain == compressed
        return
    assert plain[1] == compressed[1]


@PROPERTY_SETTINGS
@given(text=texts)
def test_storable_text_is_storable_and_changes_only_what_it_must(text: str) -> None:
    from ingest_api.core.storable import storable_text

    cleaned = storable_text(text)

    assert is_storable(cleaned)
    assert len(cleaned) == len(text)
    if is_storable(text):
        assert cleaned == text


def test_the_records_of_a_hostile_line_are_still_counted() -> None:
    # A regression the properties found: see test_hostile_files for the corpus.
    data = b'{"ts":"0001-01-01T00:00:00+01:00","level":"info"}\n' * 3
    assert process(data).summary.parsed_lines == 3
