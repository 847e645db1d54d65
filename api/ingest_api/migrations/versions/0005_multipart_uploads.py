"""multipart uploads: a job's part size and its storage upload id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("part_size_bytes", sa.BigInteger(), nullable=True))
    op.add_column("jobs", sa.Column("upload_id", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "upload_id")
    op.drop_column("jobs", "part_size_bytes")
