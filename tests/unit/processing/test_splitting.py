"""Cutting blocks into numbered lines."""

from __future__ import annotations

from ingest_api.processing.splitting import MAX_BATCH_LINES, LineBatch, LineSplitter


def split(*blocks: bytes, max_line_bytes: int = 1000) -> list[LineBatch]:
    splitter = LineSplitter(max_line_bytes=max_line_bytes)
    batches = [batch for block in blocks for batch in splitter.feed(block)]
    return batches + splitter.finish()


def test_lines_that_span_blocks_are_joined_and_numbered_in_order() -> None:
    batches = split(b"one\ntw", b"o\nthr", b"ee", b"\nfour")

    assert [(batch.first_number, batch.lines) for batch in batches] == [
        (1, [b"one"]),
        (2, [b"two"]),
        (3, [b"three"]),
        (4, [b"four"]),
    ]


def test_a_final_newline_makes_no_extra_line() -> None:
    assert [batch.lines for batch in split(b"a\nb\n")] == [[b"a", b"b"]]


def test_crlf_line_ends_count_as_lf_even_across_blocks() -> None:
    batches = split(b"a\r\nb\r", b"\nc\r\n")

    assert [line for batch in batches for line in batch.lines] == [b"a", b"b", b"c"]


def test_a_line_cut_across_blocks_keeps_its_start_and_the_next_line_is_whole() -> None:
    batches = split(b"ok\n" + b"x" * 6, b"y" * 6, b"z" * 3 + b"\nnext\n", max_line_bytes=8)

    assert [line for batch in batches for line in batch.lines] == [b"ok", b"xxxxxxyy", b"next"]
    assert frozenset({2}) in [batch.truncated for batch in batches]


def test_lines_decode_with_replacement_for_bad_bytes() -> None:
    (batch,) = split(b"caf\xc3\xa9 ok\nbad \xff byte\n")

    assert batch.texts() == ["café ok", "bad \ufffd byte"]
    assert batch.text(2) == "bad \ufffd byte"


def test_a_block_of_many_short_lines_comes_in_bounded_batches() -> None:
    count = 2 * MAX_BATCH_LINES + 5
    block = b"".join(
        b"x" * 200 + b"\n" if n == MAX_BATCH_LINES + 1 else b"y\n" for n in range(count)
    )

    batches = split(block, max_line_bytes=100)

    assert [len(batch.lines) for batch in batches] == [MAX_BATCH_LINES, MAX_BATCH_LINES, 5]
    assert [batch.first_number for batch in batches] == [
        1,
        MAX_BATCH_LINES + 1,
        2 * MAX_BATCH_LINES + 1,
    ]
    assert [batch.truncated for batch in batches] == [
        frozenset(),
        frozenset({MAX_BATCH_LINES + 2}),
        frozenset(),
    ]
