"""Workspace sessions: one row per sign-in, revoked at sign-out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from api.storage.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("session_sha256", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.key_id"],
            name="fk_web_sessions_key_id_api_keys",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_sha256", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_key_id", "web_sessions", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_key_id", table_name="web_sessions")
    op.drop_table("web_sessions")
