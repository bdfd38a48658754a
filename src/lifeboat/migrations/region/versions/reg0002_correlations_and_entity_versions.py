"""correlations and entity versions

Revision ID: reg0002
Revises: reg0001
Create Date: 2026-11-27 12:55:43.463843
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lifeboat.store.tables

revision = "reg0002"
down_revision = "reg0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "correlations",
        sa.Column("bcp_tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("primary_id", sa.BigInteger(), nullable=False),
        sa.Column("bcp_id", sa.BigInteger(), nullable=False),
        sa.Column("primary_version", sa.BigInteger(), nullable=False),
        sa.Column("bcp_version", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "notes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("bcp_tenant_id", "type", "primary_id"),
        sa.UniqueConstraint("bcp_tenant_id", "bcp_id", name="uq_correlations_bcp_id"),
    )
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.BigInteger(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_column("version")

    op.drop_table("correlations")
