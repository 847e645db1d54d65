"""hostile uploads: unbounded event actors, failure codes, retries, the verified object

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # varchar(64) could not hold "worker:" and a pod name, nor "user:" and a
    # 64-character user name: such an actor failed every transition it made.
    op.alter_column(
        "job_events", "actor", type_=sa.Text(), existing_type=sa.String(64), nullable=False
    )
    op.add_column("jobs", sa.Column("failure_code", sa.String(length=64), nullable=True))
    op.add_column("jobs", sa.Column("retries", sa.Integer(), server_default="0", nullable=False))
    op.add_column("jobs", sa.Column("object_etag", sa.Text(), nullable=True))
    op.add_column("jobs", sa.Column("object_version", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "object_version")
    op.drop_column("jobs", "object_etag")
    op.drop_column("jobs", "retries")
    op.drop_column("jobs", "failure_code")
    # Actors longer than 64 characters are cut, not lost with their events.
    op.execute("UPDATE job_events SET actor = left(actor, 64) WHERE length(actor) > 64")
    op.alter_column(
        "job_events", "actor", type_=sa.String(64), existing_type=sa.Text(), nullable=False
    )
