"""Schema migrations (Alembic) and the `ingest-migrate` command.

The operator runs `ingest-migrate` as a Job before new API pods roll out.
The API itself never migrates: it checks at start-up (and in /readyz) that
the database is at the revision its code expects, and refuses to serve an
older schema with a message that says what to run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from ingest_api.core.config import get_settings
from ingest_api.core.db import async_database_url

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic runs synchronously; psycopg 3 serves both worlds.
    config.set_main_option("sqlalchemy.url", async_database_url(database_url).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The revision this code expects the database to be at."""
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/unused"))
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migration revisions found")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the connected database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def main() -> None:
    """`ingest-migrate`: bring the database named by DATABASE_URL to head."""
    settings = get_settings()
    try:
        upgrade(settings.database_url)
    except Exception as error:
        sys.exit(f"ingest-migrate: migration failed: {error}")
    print(f"ingest-migrate: database is at revision {head_revision()}")
