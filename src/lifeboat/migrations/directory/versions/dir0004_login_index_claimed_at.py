"""login index: when each username was claimed

A claim whose user is not written yet may belong to a write still running; only an old
one was left by a crash and may be taken over (see lifeboat.services.tenancy.usernames).

Revision ID: dir0004
Revises: dir0003
Create Date: 2026-11-27 14:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import lifeboat.store.tables

revision = "dir0004"
down_revision = "dir0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_index", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("login_index", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
