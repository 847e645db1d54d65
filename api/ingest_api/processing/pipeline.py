"""Process one uploaded log file: bytes in, gzip NDJSON out, a summary back.

The whole path from source to sink, wired from the pieces beside this
module: decompress -> check it is text -> split into lines -> detect the
format once -> parse -> summarise and write. No I/O of its own: the worker
passes the S3 body as `source` and a multipart-upload writer as `sink`.

Reading and decompressing run a few blocks ahead in a thread of their
own (see `overlapping`); the rest, compressing included, runs in the
caller's thread.
"""

from __future__ import annotations

import time
from contextlib import closing
from datetime import datetime

from ingest_api.processing.decompressing import ByteSource, DecompressedStream
from ingest_api.processing.detecting import detect_format
from ingest_api.processing.errors import LimitExceeded
from ingest_api.processing.formats import parser_for
from ingest_api.processing.formats.records import LineParser
from ingest_api.processing.guarding import parse_guarded
from ingest_api.processing.models import Limits, LogFormat, Record
from ingest_api.processing.overlapping import read_ahead
from ingest_api.processing.sniffing import check_text, strip_bom
from ingest_api.processing.splitting import LineBatch, LineSplitter
from ingest_api.processing.summarising import Summary, SummaryBuilder
from ingest_api.processing.writing import GzipNdjsonWriter, Sink

DEFAULT_LIMITS = Limits()


def process_stream(
    source: ByteSource,
    sink: Sink,
    *,
    reference_time: datetime,
    limits: Limits = DEFAULT_LIMITS,
    expected_sha256: str | None = None,
) -> Summary:
    """Normalise every line of `source` into gzip NDJSON sent to `sink`; summarise it.

    `source` is a file-like object (`read(size)`) or an iterable of byte
    chunks, compressed with gzip or zstd or not at all. `reference_time`
    dates RFC 3164 syslog lines, which carry no year: pass the upload time,
    so that processing the same file again gives the same bytes. With
    `expected_sha256`, the source's bytes (as stored, before
    decompression) must hash to it.

    Whatever the bytes, this returns a summary or raises a
    `ProcessingError` (CorruptInput, UnsupportedInput, NotText,
    LimitExceeded, ChecksumMismatch) about the file as a whole; a line it
    cannot make sense of is an unparsed line, never an error. The sink may
    have received some parts by then, so abort the upload. Errors of the
    source or the sink themselves pass through unchanged.
    """
    stream = DecompressedStream(source, limits=limits, expected_sha256=expected_sha256)
    run = _Run(sink, limits=limits, reference_time=reference_time)
    deadline = time.monotonic() + limits.max_seconds
    # Closed on every way out, so the reading thread has ended before we return.
    with closing(read_ahead(stream)) as blocks:
        for index, block in enumerate(blocks):
            if index == 0:
                check_text(block)
                block = strip_bom(block)
            run.feed(block)
            if time.monotonic() > deadline:
                raise LimitExceeded(
                    f"processing the file took longer than {limits.max_seconds:g} seconds, "
                    "the limit for one file: split it into smaller files"
                )
    stream.check_sha256()
    return run.finish(stream)


class _Run:
    """One file's processing: the state kept from one block to the next."""

    def __init__(self, sink: Sink, *, limits: Limits, reference_time: datetime) -> None:
        self._splitter = LineSplitter(max_line_bytes=limits.max_line_bytes)
        self._writer = GzipNdjsonWriter(sink)
        self._summary = SummaryBuilder()
        self._reference_time = reference_time
        self._format: LogFormat | None = None
        self._parser: LineParser | None = None

    def feed(self, block: bytes) -> None:
        for batch in self._splitter.feed(block):
            self._process(batch)

    def finish(self, stream: DecompressedStream) -> Summary:
        for batch in self._splitter.finish():
            self._process(batch)
        self._writer.close()
        return self._summary.build(
            log_format=self._format or LogFormat.PLAIN_TEXT,
            compression=stream.compression,
            bytes_in=stream.bytes_in,
            bytes_decompressed=stream.bytes_out,
            bytes_out=self._writer.bytes_out,
        )

    def _process(self, batch: LineBatch) -> None:
        if self._parser is None:
            self._format = detect_format(batch.texts())
            self._parser = parser_for(self._format, reference_time=self._reference_time)
        records = parse_guarded(self._parser, batch)
        if batch.truncated:
            _mark_truncated(records, batch.truncated)
        self._summary.add(batch, records)
        self._writer.write(records)


def _mark_truncated(records: list[Record], numbers: frozenset[int]) -> None:
    for record in records:
        if record.line in numbers:
            record.truncated = True
