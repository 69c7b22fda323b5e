"""Batches: a batch per submitted spec, the systems it covers, one row per run.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from api.storage.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scenario_pk", sa.String(32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("base_hash", sa.String(64), nullable=False),
        sa.Column("base_document", sa.Text(), nullable=True),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("runs_total", sa.Integer(), nullable=False),
        sa.Column("runs_done", sa.Integer(), nullable=False),
        sa.Column("runs_failed", sa.Integer(), nullable=False),
        sa.Column("runner_id", sa.String(64), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_pk"],
            ["scenarios.id"],
            name="fk_batches_scenario_pk_scenarios",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_batches"),
    )
    op.create_index("ix_batches_state_runner", "batches", ["state", "runner_id"])
    op.create_table(
        "batch_systems",
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("system_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name="fk_batch_systems_batch_id_batches",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "system_id", name="pk_batch_systems"),
    )
    op.create_index("ix_batch_systems_system_id", "batch_systems", ["system_id"])
    op.create_table(
        "batch_runs",
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("run_index", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("feasible", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name="fk_batch_runs_batch_id_batches",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "run_index", name="pk_batch_runs"),
    )
    op.create_index("ix_batch_runs_batch_id_run_id", "batch_runs", ["batch_id", "run_id"])


def downgrade() -> None:
    for table in ("batch_runs", "batch_systems", "batches"):
        op.drop_table(table)
