"""the entities index covers the version

Revision ID: reg0003
Revises: reg0002
Create Date: 2026-11-30 23:10:00

The fingerprints of store/tallies.py (count, sum of versions, highest id per tenant and
type) are read on every Overview; with the version in the index they are answered from the
index alone instead of from every row. It replaces the index it extends, so a write still
maintains one index.
"""

from alembic import op

revision = "reg0003"
down_revision = "reg0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index("ix_entities_tenant_type")
        batch_op.create_index("ix_entities_tenant_type_version", ["tenant_id", "type", "id", "version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index("ix_entities_tenant_type_version")
        batch_op.create_index("ix_entities_tenant_type", ["tenant_id", "type", "id"], unique=False)
