"""bcp plans and sync runs

Revision ID: dir0002
Revises: dir0001
Create Date: 2026-11-27 12:55:43.494511
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lifeboat.store.tables

revision = "dir0002"
down_revision = "dir0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bcp_plans",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("primary_tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("bcp_tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("passkey_hash", sa.Text(), nullable=False),
        sa.Column("active_side", sa.String(length=10), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("sync_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "sync_settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sync_enabled_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bcp_tenant_id"),
        sa.UniqueConstraint("primary_tenant_id"),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("scheduled_for", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("queued_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "report", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "scheduled_for", name="uq_sync_runs_occurrence"),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index("ix_sync_runs_plan", ["plan_id", "id"], unique=False)
        batch_op.create_index("ix_sync_runs_status", ["status", "queued_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_status")
        batch_op.drop_index("ix_sync_runs_plan")

    op.drop_table("sync_runs")
    op.drop_table("bcp_plans")
