"""login failures: the login throttle per username and per client address

Revision ID: dir0005
Revises: dir0004
Create Date: 2026-12-02 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import lifeboat.store.tables

revision = "dir0005"
down_revision = "dir0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_started_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("locked_until", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("forgotten_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_forgotten_at", ["forgotten_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_forgotten_at")
    op.drop_table("login_failures")
