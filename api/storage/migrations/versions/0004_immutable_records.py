"""Stored results and scenario versions become immutable; audit rows keep the client's
request id; keys may expire.

The database itself refuses UPDATE and DELETE of results, scenario versions, approvals and
audit rows (approvals and audit rows since 0001), whatever the code tries: SQLite
triggers, PostgreSQL trigger functions (TRUNCATE too).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from api.storage.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

IMMUTABLE = ("results", "scenario_versions")


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as table:
        table.add_column(sa.Column("client_request_id", sa.String(200), nullable=True))
    with op.batch_alter_table("api_keys") as table:
        table.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
    dialect = op.get_bind().dialect.name
    for name in IMMUTABLE:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {name}_no_{verb.lower()} BEFORE {verb} ON {name} "
                    f"BEGIN SELECT RAISE(ABORT, '{name} is append-only'); END"
                )
        elif dialect == "postgresql":
            op.execute(
                f"CREATE FUNCTION {name}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN RAISE EXCEPTION '{name} is append-only'; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in IMMUTABLE:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}")
            op.execute(f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}_append_only()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {name}_no_delete")
    with op.batch_alter_table("api_keys") as table:
        table.drop_column("expires_at")
    with op.batch_alter_table("audit_log") as table:
        table.drop_column("client_request_id")
