"""Log files for tests, made on the fly: small ones with known content and
large ones (many MB) for tests that need a job to run for a while."""

from __future__ import annotations

import gzip
import json
import os

LEVELS = ("info", "info", "info", "warning", "error", "debug")


def json_lines(count: int, *, start_second: int = 0) -> bytes:
    """`count` JSON lines, one a second from 2026-11-28T10:00:00Z."""
    lines = []
    for i in range(count):
        second = start_second + i
        stamp = f"2026-11-28T{10 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
        level = LEVELS[i % len(LEVELS)]
        lines.append(json.dumps({"ts": stamp, "level": level, "msg": f"event {i}", "n": i}))
    return ("\n".join(lines) + "\n").encode()


def large_gzip_log(megabytes: int) -> bytes:
    """A gzip JSON-lines file of about `megabytes` MB decompressed, quick to
    make: one block repeated (gzip compresses it well; parsing still has
    every line to do)."""
    block = json_lines(2000)
    repeats = max(1, megabytes * 1024 * 1024 // len(block))
    return gzip.compress(block * repeats, compresslevel=1, mtime=0)


def binary_blob(size: int = 64 * 1024) -> bytes:
    return b"\x00\x01\x02\xff" + os.urandom(size)
