"""switches: one record per committed switch or revert, with its measured times

Revision ID: dir0009
Revises: dir0008
Create Date: 2026-12-08 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import lifeboat.store.tables

revision = "dir0009"
down_revision = "dir0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "switches",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("to_side", sa.String(length=10), nullable=False),
        sa.Column("to_tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("from_tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("switch_ms", sa.Float(), nullable=True),
        sa.Column("last_sync_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_call_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_login_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("to_tenant_id", "epoch", name="uq_switches_to_tenant_epoch"),
    )
    op.create_index("ix_switches_plan_at", "switches", ["plan_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_switches_plan_at", table_name="switches")
    op.drop_table("switches")
