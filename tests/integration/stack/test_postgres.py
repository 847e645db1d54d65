"""The local PostgreSQL is a real server, and each test gets its own database."""

from __future__ import annotations

import psycopg


def test_postgres_answers_select_version(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select version()").fetchone()
    assert row is not None
    assert row[0].startswith("PostgreSQL ")


def test_each_test_gets_an_empty_database_of_its_own(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        name = conn.execute("select current_database()").fetchone()
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        ).fetchone()
    assert name is not None
    assert name[0] == database_url.rsplit("/", 1)[1]
    assert tables == (0,)
