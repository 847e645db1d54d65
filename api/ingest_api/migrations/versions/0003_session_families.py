"""session families: refresh tokens of one login share a family, which ends as a whole

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("refresh_tokens", sa.Column("family_id", postgresql.UUID(), nullable=True))
    op.add_column(
        "refresh_tokens",
        sa.Column("family_started_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "refresh_tokens", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True)
    )
    # A token issued before families existed starts a family of its own.
    op.execute("UPDATE refresh_tokens SET family_id = jti, family_started_at = created_at")
    op.alter_column("refresh_tokens", "family_id", nullable=False)
    op.alter_column("refresh_tokens", "family_started_at", nullable=False)
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
    op.drop_column("refresh_tokens", "revoked_at")
    op.drop_column("refresh_tokens", "family_started_at")
    op.drop_column("refresh_tokens", "family_id")
