"""How a multipart upload is cut into parts, and whether what storage holds
is the whole file (pure: no I/O).

S3's limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most
10,000 of them. A job's part size is fixed when it is created, so every part
but the last has exactly that size, and each part's URL is signed for its
exact length: storage itself refuses a part of another size.
"""

from __future__ import annotations

from typing import Final

from ingest_api.core.errors import Conflict, InvalidRequest
from ingest_api.storage.parts import StoredPart

MIN_PART_BYTES: Final = 5 * 1024**2
MAX_PART_BYTES: Final = 5 * 1024**3
MAX_PARTS: Final = 10_000
# The most part URLs one request may ask for (each is a local signature).
MAX_PARTS_PER_REQUEST: Final = 1_000
# A part size that is a whole number of MiB reads better in listings.
_MIB: Final = 1024**2


def part_size_for(size: int, *, requested: int | None, default: int) -> int:
    """The part size of a file of `size` bytes: the requested one (checked),
    else the default grown until the file fits in MAX_PARTS parts."""
    if requested is not None:
        if not MIN_PART_BYTES <= requested <= MAX_PART_BYTES:
            raise InvalidRequest(
                f"a part is {MIN_PART_BYTES} to {MAX_PART_BYTES} bytes", field="part_size_bytes"
            )
        if part_count(size, requested) > MAX_PARTS:
            raise InvalidRequest(
                f"{part_count(size, requested)} parts of {requested} bytes; at most {MAX_PARTS}: "
                "choose larger parts",
                field="part_size_bytes",
            )
        return requested
    smallest = -(-size // MAX_PARTS)  # ceiling
    fitting = -(-smallest // _MIB) * _MIB
    return min(max(default, fitting, MIN_PART_BYTES), MAX_PART_BYTES)


def part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


def part_length(size: int, part_size: int, number: int) -> int:
    """The exact length of part `number` (1-based) of the file."""
    count = part_count(size, part_size)
    if not 1 <= number <= count:
        raise InvalidRequest(f"the file has parts 1 to {count}", field="part_number")
    return part_size if number < count else size - part_size * (count - 1)


def check_complete(parts: list[StoredPart], *, size: int, part_size: int) -> None:
    """Conflict unless storage holds every part, each of its exact length."""
    count = part_count(size, part_size)
    held = {part.number: part for part in parts}
    missing = [number for number in range(1, count + 1) if number not in held]
    if missing:
        shown = ", ".join(str(number) for number in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise Conflict(
            f"{len(missing)} of {count} parts are not uploaded: {shown}{more}; "
            "upload them, then complete again"
        )
    extra = [number for number in held if number > count]
    if extra:
        raise Conflict(f"part {min(extra)} is past the file's {count} parts")
    for number, part in sorted(held.items()):
        if part.size != part_length(size, part_size, number):
            raise Conflict(
                f"part {number} holds {part.size} bytes, not the job's "
                f"{part_length(size, part_size, number)}"
            )
