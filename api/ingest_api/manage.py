"""`ingest-admin`: server-side management commands run next to the database.

    ingest-admin create-user --username NAME [--role admin] < password

The first admin of a deployment comes from here, or from the bootstrap
credentials the API reads at start-up (BOOTSTRAP_ADMIN_USERNAME/PASSWORD).
The password is read from standard input, never from the command line,
where it would show in the process list and the shell's history.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from ingest_api.auth.security import hash_password
from ingest_api.core.config import get_settings
from ingest_api.core.db import Database
from ingest_api.core.errors import IngestError
from ingest_api.users import service as users
from ingest_api.users.models import Role
from ingest_api.users.schemas import UserCreate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ingest-admin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a user; the password comes on stdin")
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=[role.value for role in Role], default=Role.ADMIN.value)
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


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
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
