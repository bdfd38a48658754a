"""voice edges: the SIP edges that registered, their RPC address and answers by code

Revision ID: dir0006
Revises: dir0005
Create Date: 2026-12-03 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lifeboat.store.tables

revision = "dir0006"
down_revision = "dir0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_edges",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("rpc_url", sa.String(length=300), nullable=False),
        sa.Column("token_name", sa.String(length=200), nullable=False),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("registered_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_heard_at", lifeboat.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("voice_edges")
