"""drills: test numbers routed to BCP and pilot logins, at most one running per plan

Revision ID: dir0008
Revises: dir0007
Create Date: 2026-12-08 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lifeboat.store.tables

revision = "dir0008"
down_revision = "dir0007"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "drills",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("numbers", _json(), nullable=False),
        sa.Column("routes", _json(), nullable=False),
        sa.Column("users", _json(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=200), nullable=True),
        sa.Column("calls_routed", sa.Integer(), nullable=False),
        sa.Column("pilot_logins", sa.Integer(), nullable=False),
        sa.Column("first_call_s", sa.Float(), nullable=True),
        sa.Column("first_login_s", sa.Float(), nullable=True),
        sa.Column("readiness", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_drills_plan", "drills", ["plan_id", "id"], unique=False)
    op.create_index(
        "ux_drills_running",
        "drills",
        ["plan_id"],
        unique=True,
        postgresql_where=sa.text("status = 'running'"),
        sqlite_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_index("ux_drills_running", table_name="drills")
    op.drop_index("ix_drills_plan", table_name="drills")
    op.drop_table("drills")
