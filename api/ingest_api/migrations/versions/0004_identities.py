"""identities: API keys, users from identity providers, how each event's actor authenticated

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", postgresql.UUID(), primary_key=True),
        sa.Column(
            "user_id",
            postgresql.UUID(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(32)), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    # A user from an identity provider is (issuer, subject), named
    # "<issuer name>:<subject>", and has no password.
    op.alter_column("users", "username", type_=sa.String(320), existing_type=sa.String(64))
    op.alter_column("users", "password_hash", nullable=True, existing_type=sa.String(255))
    op.add_column("users", sa.Column("issuer", sa.String(512), nullable=True))
    op.add_column("users", sa.Column("external_subject", sa.String(255), nullable=True))
    op.create_unique_constraint(
        "uq_users_issuer_external_subject", "users", ["issuer", "external_subject"]
    )
    op.add_column("job_events", sa.Column("via", sa.String(160), nullable=True))


def downgrade() -> None:
    op.drop_column("job_events", "via")
    op.drop_constraint("uq_users_issuer_external_subject", "users", type_="unique")
    op.drop_column("users", "external_subject")
    op.drop_column("users", "issuer")
    # Users without a password (from an identity provider) cannot exist before.
    op.execute("DELETE FROM users WHERE password_hash IS NULL")
    op.alter_column("users", "password_hash", nullable=False, existing_type=sa.String(255))
    op.alter_column("users", "username", type_=sa.String(64), existing_type=sa.String(320))
    op.drop_index("ix_api_keys_user_id", table_name="api_keys")
    op.drop_table("api_keys")
