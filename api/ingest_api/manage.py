"""`ingest-admin`: server-side management commands run next to the database.

    ingest-admin create-user --username NAME [--role admin] < password
    ingest-admin purge

`purge` deletes what the retention settings no longer keep (`retention`)
and prints what it deleted, as one JSON object; the operator runs it as a
CronJob. It is idempotent: run it as often as you like.

The first admin of a deployment comes from here, or from the bootstrap
credentials the API reads at start-up (BOOTSTRAP_ADMIN_USERNAME/PASSWORD).
The password is read from standard input, never from the command line,
where it would show in the process list and the shell's history.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime

from redis.exceptions import RedisError

from ingest_api.auth.security import hash_password
from ingest_api.core.config import get_settings
from ingest_api.core.db import Database
from ingest_api.core.errors import DependencyUnavailable, IngestError
from ingest_api.core.logging import configure_logging
from ingest_api.queue.consumer import CONSUMER_GROUP
from ingest_api.retention.purge import PurgeReport, purge
from ingest_api.runtime import Runtime
from ingest_api.users import service as users
from ingest_api.users.models import Role
from ingest_api.users.schemas import UserCreate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ingest-admin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a user; the password comes on stdin")
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=[role.value for role in Role], default=Role.ADMIN.value)
    commands.add_parser(
        "purge", help="delete what the retention settings no longer keep; print what went"
    )
    return parser


async def create_user(username: str, password: str, role: Role) -> str:
    db = Database.from_settings(get_settings())
    try:
        user = await db.transaction(
            lambda session: users.create(
                session, username=username, password_hash=hash_password(password), role=role
            )
        )
    finally:
        await db.dispose()
    return str(user.id)


async def run_purge() -> PurgeReport:
    runtime = Runtime.from_settings(get_settings())
    try:
        return await purge(runtime, group=CONSUMER_GROUP, now=datetime.now(UTC))
    finally:
        await runtime.close()


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "purge":
        settings = get_settings()
        # Logs on stderr: stdout holds the report alone, for scripts.
        configure_logging(settings.log_level, settings.effective_log_format)
        try:
            report = asyncio.run(run_purge())
        except DependencyUnavailable as error:
            sys.exit(f"ingest-admin: purge stopped ({error.dependency}): {error.detail}")
        except RedisError as error:
            sys.exit(f"ingest-admin: purge stopped (redis): {error}")
        print(json.dumps({"deleted": report.as_dict()}))
        return
    password = sys.stdin.readline().rstrip("\n")
    try:
        # The same rules as the API's own user creation.
        checked = UserCreate(username=args.username, password=password, role=Role(args.role))
        user_id = asyncio.run(create_user(checked.username, checked.password, checked.role))
    except IngestError as error:
        sys.exit(f"ingest-admin: {error.detail}")
    except ValueError as error:
        sys.exit(f"ingest-admin: {error}")
    print(f"created {checked.role.value} '{checked.username}' ({user_id})")
