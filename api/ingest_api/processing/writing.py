"""Write normalised records as gzip-compressed NDJSON to a sink, in parts.

The sink is any `write(bytes)` callable; each call but the last gets at
least `part_bytes`, so the worker can hand every call straight to an S3
multipart upload (whose parts must be at least 5 MiB, except the last).

Output is deterministic: the gzip header carries no time or name, and the
compressor is fed fixed-size slices of the NDJSON stream, so the bytes
depend on the records alone, never on how they were batched. ISA-L
compresses about five times as fast as zlib at a similar ratio; its output
can differ between CPU architectures (and library versions), so "the same
bytes" holds for one worker image on one architecture, while the
decompressed NDJSON is the same everywhere.

Compressing runs in the caller's thread (`overlapping` says why).

Every line written is JSON that PostgreSQL's jsonb accepts, as people load
these records into databases: a record holding a NUL (`\\u0000` in JSON) or
a lone surrogate (which no UTF-8 encoder takes) is written with those
characters replaced (`core.storable`). The check is one scan of the encoded
batch (about 4 GB/s), so a clean batch, nearly every one, costs little more.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from isal import isal_zlib

from ingest_api.core.storable import storable_json, storable_text
from ingest_api.processing.models import Record

Sink = Callable[[bytes], None]

# S3 multipart parts must be at least 5 MiB (except the last); 8 MiB leaves
# room and keeps a 10,000-part upload good for 80 GiB of output.
PART_BYTES = 8 * 1024 * 1024
# ISA-L levels run 0-3; 1 compresses logs about as well as zlib's level 3
# at several times its speed.
COMPRESSION_LEVEL = 1
# The compressor always gets slices of this size (ISA-L's output depends on
# how its input is cut), which is what makes the output deterministic.
SLICE_BYTES = 1024 * 1024
# wbits: 16 + 15 = a gzip wrapper with the largest window.
_GZIP_WBITS = 31
# How msgspec writes a NUL in a JSON string; jsonb refuses it.
_ENCODED_NUL = b"\\u0000"


class GzipNdjsonWriter:
    """One gzip NDJSON file. `write` batches of records, then `close` once."""

    def __init__(
        self,
        sink: Sink,
        *,
        part_bytes: int = PART_BYTES,
        level: int = COMPRESSION_LEVEL,
    ) -> None:
        self._sink = sink
        self._part_bytes = part_bytes
        self._encode_lines = msgspec.json.Encoder().encode_lines
        self._compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, _GZIP_WBITS)
        self._unsliced: list[bytes] = []  # encoded NDJSON short of a whole slice
        self._unsliced_size = 0
        self._part: list[bytes] = []
        self._part_size = 0
        self.bytes_out = 0

    def write(self, records: list[Record]) -> None:
        try:
            encoded = self._encode_lines(records)
        except UnicodeEncodeError:  # a lone surrogate
            encoded = self._encode_lines(list(map(storable_record, records)))
        # rfind, not `in`: CPython's reverse search skips ahead on the
        # needle's first byte, a backslash, rare in logs; the forward search
        # skips on its last, a "0", common in timestamps: half the time.
        if encoded.rfind(_ENCODED_NUL) != -1:
            encoded = self._encode_lines(list(map(storable_record, records)))
        self._unsliced.append(encoded)
        self._unsliced_size += len(encoded)
        if self._unsliced_size >= SLICE_BYTES:
            data = b"".join(self._unsliced)
            whole = len(data) - len(data) % SLICE_BYTES
            self._unsliced = [data[whole:]]
            self._unsliced_size = len(data) - whole
            self._compress_slices(memoryview(data)[:whole])

    def close(self) -> None:
        """Compress what is left, end the gzip stream and hand the last part to the sink."""
        self._add_to_part(self._compressor.compress(b"".join(self._unsliced)))
        self._unsliced.clear()
        self._add_to_part(self._compressor.flush())
        self._send_part()

    def _compress_slices(self, data: memoryview) -> None:
        for start in range(0, len(data), SLICE_BYTES):
            self._add_to_part(self._compressor.compress(data[start : start + SLICE_BYTES]))

    def _add_to_part(self, compressed: bytes) -> None:
        if compressed:
            self._part.append(compressed)
            self._part_size += len(compressed)
            if self._part_size >= self._part_bytes:
                self._send_part()

    def _send_part(self) -> None:
        if not self._part:
            return
        data = b"".join(self._part)
        self._part.clear()
        self._part_size = 0
        self._sink(data)
        self.bytes_out += len(data)


def storable_record(record: Record) -> Record:
    """`record` with NUL and lone surrogates replaced in its message and fields."""
    return msgspec.structs.replace(
        record, message=storable_text(record.message), fields=storable_json(record.fields)
    )
