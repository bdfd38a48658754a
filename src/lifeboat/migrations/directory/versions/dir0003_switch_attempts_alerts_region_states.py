"""switch attempts, alerts, region states

Revision ID: dir0003
Revises: dir0002
Create Date: 2026-11-27 13:03:50.707084
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lifeboat.store.tables

revision = "dir0003"
down_revision = "dir0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_alert_outbox_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column(
            "events", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_subscriptions_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "region_states",
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("changed_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region"),
    )
    op.create_table(
        "switch_attempts",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("to_side", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("switch_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_switch_attempts_plan_at", ["plan_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("switch_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_switch_attempts_plan_at")

    op.drop_table("switch_attempts")
    op.drop_table("region_states")
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subscriptions_tenant_id"))

    op.drop_table("alert_subscriptions")
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_outbox_due")

    op.drop_table("alert_outbox")
