"""Turn the uploaded bytes into decompressed blocks, whatever the compression.

The compression is read from the magic bytes, never from a file name:
gzip (`1f 8b`, every member of a multi-member file), zstd (`28 b5 2f fd`,
every frame), anything else is taken as uncompressed. Archives we do not
read (zip, bzip2, xz, 7z) are refused by name, so the person who uploaded
one learns what to send instead.

gzip goes through ISA-L (`isal`), which inflates about five times as fast
as zlib: inflating is a large share of the cost of a gzip file.

Memory stays flat: the source is read in small pieces and every
decompressor call is capped at one block of output, so a small
"decompression bomb" cannot blow up in one call; the decompressed size and
the compression ratio are checked block by block, so a bomb fails within
its first megabytes. The source's bytes are hashed as they are read when a
sha256 was declared for them.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Protocol, cast, runtime_checkable

from isal import isal_zlib

from ingest_api.processing.errors import (
    ChecksumMismatch,
    CorruptInput,
    LimitExceeded,
    UnsupportedInput,
)
from ingest_api.processing.models import Compression, Limits

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

# Compressed bytes asked of the source per read: small enough to keep a
# network stream flowing, large enough that the per-call overhead vanishes.
READ_SIZE = 256 * 1024
# Decompressed bytes per decompressor call at most: large enough that the
# per-call overhead vanishes, small enough that a block costs little memory.
BLOCK_SIZE = 1024 * 1024
# Smaller pieces (a source read in small chunks, the end of a member) are
# joined up to this before they are handed on; larger ones pass uncopied.
MIN_BLOCK_SIZE = 256 * 1024

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# How many leading bytes the magic checks need (bzip2's is the longest).
MAGIC_BYTES = 10
# wbits: 16 + 15 = a gzip wrapper with the largest window.
_GZIP_WBITS = 31
# isal's stubs declare `error` as an instance; it is the exception class.
_GZIP_ERROR = cast(type[Exception], isal_zlib.error)


@runtime_checkable
class SupportsRead(Protocol):
    """A file-like source: an open file, an S3 `StreamingBody`, `io.BytesIO`."""

    def read(self, size: int = ..., /) -> bytes: ...


ByteSource = SupportsRead | Iterable[bytes]


def detect_compression(head: bytes) -> Compression:
    """The compression that the first bytes of a file announce."""
    if head.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(ZSTD_MAGIC):
        return Compression.ZSTD
    kind = _unsupported_kind(head)
    if kind is not None:
        raise UnsupportedInput(
            f"the file is {kind}, which is not supported: upload one log file, "
            "uncompressed or compressed with gzip or zstd"
        )
    return Compression.NONE


def _unsupported_kind(head: bytes) -> str | None:
    """What a file we recognise but do not read is, in a person's words."""
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz-compressed"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "a 7z archive"
    # "BZh" alone could begin a text file; the block magic after the level digit cannot.
    if head.startswith(b"BZh") and head[4:10] == b"1AY&SY":
        return "bzip2-compressed"
    return None


class DecompressedStream:
    """The decompressed content of a source, as blocks, with the byte counts.

    Iterate once. `bytes_in` counts what was read from the source,
    `bytes_out` what came out of decompression; both are final once the
    iteration ends, and so is `check_sha256`'s answer.
    """

    def __init__(
        self, source: ByteSource, *, limits: Limits, expected_sha256: str | None = None
    ) -> None:
        self.bytes_in = 0
        self.bytes_out = 0
        self._limits = limits
        self._expected_sha256 = expected_sha256
        self._sha256 = hashlib.sha256() if expected_sha256 else None
        head, chunks = _peek(self._counted(_source_chunks(source)), MAGIC_BYTES)
        self.compression = detect_compression(head)
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        if self.compression is Compression.GZIP:
            pieces = _gunzip(self._chunks)
        elif self.compression is Compression.ZSTD:
            pieces = _unzstd(self._chunks)
        else:
            pieces = self._chunks
        for block in _coalesced(pieces, MIN_BLOCK_SIZE):
            self.bytes_out += len(block)
            self._check_limits()
            yield block

    def check_sha256(self) -> None:
        """Raise ChecksumMismatch unless the source read whole is what was declared."""
        if self._sha256 is None:
            return
        actual = self._sha256.hexdigest()
        if actual != self._expected_sha256:
            raise ChecksumMismatch(
                f"the uploaded file's sha256 is {actual}, not the {self._expected_sha256} "
                "declared when the job was created: the upload is damaged or another file; "
                "upload the right file in a new job"
            )

    def _check_limits(self) -> None:
        limits = self._limits
        if self.bytes_out > limits.max_decompressed_bytes:
            raise LimitExceeded(
                f"the file decompresses to more than {limits.max_decompressed_bytes:,} bytes, "
                "the limit for one file: split it into smaller files"
            )
        if (
            self.bytes_out > limits.RATIO_FREE_BYTES
            and self.bytes_out > limits.max_compression_ratio * self.bytes_in
        ):
            raise LimitExceeded(
                f"the file expands more than {limits.max_compression_ratio:g} times when "
                f"decompressed ({self.bytes_in:,} bytes read gave {self.bytes_out:,}), "
                "the limit for one file: a decompression bomb, or data too repetitive "
                "to be a log"
            )

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        digest = self._sha256
        for chunk in chunks:
            self.bytes_in += len(chunk)
            if digest is not None:
                digest.update(chunk)
            yield chunk


def _source_chunks(source: ByteSource) -> Iterator[bytes]:
    # A file object is also an iterable (of lines, cut at arbitrary 0x0a
    # bytes of compressed data), so `read` must win over iteration.
    if isinstance(source, SupportsRead):
        while chunk := source.read(READ_SIZE):
            yield chunk
    else:
        for chunk in source:
            if chunk:
                yield bytes(chunk)


def _peek(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """The first `size` bytes (fewer if the source is shorter) and all chunks again."""
    taken: list[bytes] = []
    taken_bytes = 0
    for chunk in chunks:
        taken.append(chunk)
        taken_bytes += len(chunk)
        if taken_bytes >= size:
            break
    return b"".join(taken)[:size], chain(taken, chunks)


def _coalesced(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Pieces joined into blocks of at least `size` bytes (the last may be
    shorter); a piece that large on its own is handed on as it is."""
    pending: list[bytes] = []
    pending_bytes = 0
    for piece in pieces:
        pending.append(piece)
        pending_bytes += len(piece)
        if pending_bytes >= size:
            yield b"".join(pending)
            pending.clear()
            pending_bytes = 0
    if pending_bytes:
        yield b"".join(pending)


def _gunzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Every member of a gzip stream, decompressed, one capped call at a time."""
    decompressor = isal_zlib.decompressobj(wbits=_GZIP_WBITS)
    member_open = False
    members_ended = 0
    consumed = 0  # compressed bytes fully handled before `data`
    for chunk in chunks:
        data = chunk
        while data:
            if not member_open and members_ended and _is_padding(data, consumed):
                consumed += len(data)
                break
            member_open = True
            try:
                out = decompressor.decompress(data, BLOCK_SIZE)
                while (
                    len(out) == BLOCK_SIZE
                    and not decompressor.eof
                    and not decompressor.unconsumed_tail
                ):
                    # Output was capped with all input taken in: more may be pending.
                    yield out
                    out = decompressor.decompress(b"", BLOCK_SIZE)
            except _GZIP_ERROR as error:
                raise CorruptInput(
                    f"gzip stream is corrupt after byte {consumed:,}: {error}"
                ) from error
            if out:
                yield out
            rest = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
            consumed += len(data) - len(rest)
            data = rest
            if decompressor.eof:
                decompressor = isal_zlib.decompressobj(wbits=_GZIP_WBITS)
                member_open = False
                members_ended += 1
    if member_open:
        raise CorruptInput(
            f"gzip stream is truncated: it ends at byte {consumed:,} in the middle of a "
            "member; the upload was probably cut short"
        )


def _unzstd(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Every frame of a zstd stream, decompressed, one capped call at a time."""
    decompressor = zstd.ZstdDecompressor()
    frame_open = False
    frames_ended = 0
    consumed = 0  # compressed bytes of the chunks before the current one
    for chunk in chunks:
        data = chunk
        while data or (frame_open and not decompressor.needs_input):
            if data and not frame_open and frames_ended and _is_padding(data, consumed):
                break
            frame_open = True
            try:
                out = decompressor.decompress(data, BLOCK_SIZE)
            except zstd.ZstdError as error:
                raise CorruptInput(
                    f"zstd stream is corrupt after byte {consumed:,}: {error}"
                ) from error
            data = b""
            if out:
                yield out
            if decompressor.eof:
                data = decompressor.unused_data
                decompressor = zstd.ZstdDecompressor()
                frame_open = False
                frames_ended += 1
        consumed += len(chunk)
    if frame_open:
        raise CorruptInput(
            f"zstd stream is truncated: it ends at byte {consumed:,} in the middle of a "
            "frame; the upload was probably cut short"
        )


def _is_padding(data: bytes, position: int) -> bool:
    """After the last member or frame: true for zero bytes, which tools (and
    tape blocking) leave behind and gzip itself ignores; false for the start
    of another member or frame; an error for anything else."""
    if data[0] != 0:
        return False
    if data.count(0) != len(data):
        raise CorruptInput(
            f"unexpected data after the end of the compressed stream, near byte {position:,}"
        )
    return True
