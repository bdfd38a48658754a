"""plan stale_since: the open RPO alarm of each plan (sync_stale raised, no sync_fresh yet)

Revision ID: dir0007
Revises: dir0006
Create Date: 2026-12-05 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import lifeboat.store.tables

revision = "dir0007"
down_revision = "dir0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bcp_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stale_since", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bcp_plans", schema=None) as batch_op:
        batch_op.drop_column("stale_since")
