"""the entities index covers the natural key

Revision ID: reg0004
Revises: reg0003
Create Date: 2026-12-01 02:10:00

Every sync run first reads each entity of both tenants narrowly (id, type, natural key,
version: ``EntityRepo.rows``). With the natural key in the index that read comes from the
index alone: on SQLite, 23,000 rows in about half the time of a lookup of each row. It
replaces the index it extends, so a write still maintains one index.
"""

from alembic import op

revision = "reg0004"
down_revision = "reg0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index("ix_entities_tenant_type_version")
        batch_op.create_index(
            "ix_entities_tenant_type_version_key", ["tenant_id", "type", "id", "version", "natural_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index("ix_entities_tenant_type_version_key")
        batch_op.create_index("ix_entities_tenant_type_version", ["tenant_id", "type", "id", "version"], unique=False)
