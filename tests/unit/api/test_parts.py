"""Cutting a file into parts, and judging what storage holds (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest_api.core.config import Settings
from ingest_api.core.errors import Conflict, InvalidRequest
from ingest_api.jobs.parts import (
    MAX_PART_BYTES,
    MAX_PARTS,
    MIN_PART_BYTES,
    check_complete,
    part_count,
    part_length,
    part_size_for,
)
from ingest_api.jobs.rules import part_size_of
from ingest_api.jobs.schemas import JobCreate
from ingest_api.storage.parts import StoredPart

MIB = 1024**2
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


@given(st.integers(min_value=1, max_value=5 * 1024**4))
def test_the_default_part_size_fits_any_file_within_s3s_limits(size: int) -> None:
    part_size = part_size_for(size, requested=None, default=16 * MIB)
    assert MIN_PART_BYTES <= part_size <= MAX_PART_BYTES
    assert part_count(size, part_size) <= MAX_PARTS
    lengths = [part_length(size, part_size, n) for n in range(1, part_count(size, part_size) + 1)]
    assert sum(lengths) == size
    assert all(0 < length <= part_size for length in lengths)


def test_a_requested_part_size_is_checked() -> None:
    assert part_size_for(100 * MIB, requested=8 * MIB, default=16 * MIB) == 8 * MIB
    with pytest.raises(InvalidRequest, match="at most 10000"):
        part_size_for(100 * 1024**3, requested=5 * MIB, default=16 * MIB)
    with pytest.raises(InvalidRequest, match="part is"):
        part_size_for(100 * MIB, requested=MIB, default=16 * MIB)


def test_a_part_number_outside_the_file_is_refused() -> None:
    assert part_length(12 * MIB, 5 * MIB, 3) == 2 * MIB
    for number in (0, 4):
        with pytest.raises(InvalidRequest, match="parts 1 to 3"):
            part_length(12 * MIB, 5 * MIB, number)


def parts(*sizes: int) -> list[StoredPart]:
    return [StoredPart(number=n, size=s, etag=f'"{n}"') for n, s in enumerate(sizes, start=1)]


def test_complete_means_every_part_at_its_exact_length() -> None:
    check_complete(parts(5 * MIB, 5 * MIB, 2 * MIB), size=12 * MIB, part_size=5 * MIB)
    with pytest.raises(Conflict, match="1 of 3 parts are not uploaded: 3"):
        check_complete(parts(5 * MIB, 5 * MIB), size=12 * MIB, part_size=5 * MIB)
    with pytest.raises(Conflict, match="part 2 holds 1 bytes"):
        check_complete(parts(5 * MIB, 1, 2 * MIB), size=12 * MIB, part_size=5 * MIB)
    with pytest.raises(Conflict, match="3 of 3 parts"):
        check_complete([], size=12 * MIB, part_size=5 * MIB)


def job(size: int, **fields: object) -> JobCreate:
    return JobCreate(filename="a.log", content_type="text/plain", size_bytes=size, **fields)  # type: ignore[arg-type]


def test_large_files_go_in_parts_small_ones_in_one_post_unless_asked() -> None:
    assert part_size_of(SETTINGS, job(MIB)) is None
    assert part_size_of(SETTINGS, job(MIB, multipart=True)) == 16 * MIB
    assert part_size_of(SETTINGS, job(200 * MIB)) == 16 * MIB
    assert part_size_of(SETTINGS, job(200 * MIB, multipart=False)) is None
    assert part_size_of(SETTINGS, job(20 * MIB, part_size_bytes=5 * MIB)) == 5 * MIB
    with pytest.raises(InvalidRequest, match="only be uploaded in parts"):
        part_size_of(SETTINGS, job(6 * 1024**3, multipart=False))
    with pytest.raises(InvalidRequest, match="part size is for uploads in parts"):
        part_size_of(SETTINGS, job(MIB, multipart=False, part_size_bytes=5 * MIB))
