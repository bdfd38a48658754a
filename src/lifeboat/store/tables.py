"""Tables of the two kinds of database.

A region database holds the configuration of the tenants that live in that region: one
``entities`` row per entity, its fields as JSON, and a file's bytes beside it. The
directory database holds the global control plane: tenants, operators, sessions and the
login index. Both have an ``id_counter`` (see ``lifeboat.ids``) and an ``audit_log``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON, BigInteger, Boolean, Column, DateTime, Index, Integer, LargeBinary, MetaData,
    String, Table, Text, TypeDecorator, UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")


def now() -> datetime:
    return datetime.now(UTC)


def _id_counter(metadata: MetaData) -> Table:
    return Table(
        "id_counter", metadata,
        Column("name", String(40), primary_key=True),
        Column("next_id", BigInteger, nullable=False),
    )


def _audit_log(metadata: MetaData) -> Table:
    return Table(
        "audit_log", metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime, nullable=False),
        Column("tenant_id", BigInteger, nullable=True),
        Column("actor", String(200), nullable=False),
        Column("action", String(60), nullable=False),
        Column("entity_type", String(40), nullable=True),
        Column("entity_id", BigInteger, nullable=True),
        Column("before", Json, nullable=True),
        Column("after", Json, nullable=True),
        Column("details", Json, nullable=True),
        Index("ix_audit_tenant_at", "tenant_id", "at"),
    )


region_metadata = MetaData()
region_id_counter = _id_counter(region_metadata)
region_audit = _audit_log(region_metadata)
entities = Table(
    "entities", region_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("tenant_id", BigInteger, nullable=False),
    Column("type", String(40), nullable=False),
    Column("natural_key", String(600), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("data", Json, nullable=False),
    Column("content", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "type", "natural_key", name="uq_entities_natural_key"),
    Index("ix_entities_tenant_type", "tenant_id", "type", "id"),
)


directory_metadata = MetaData()
directory_id_counter = _id_counter(directory_metadata)
directory_audit = _audit_log(directory_metadata)
tenants = Table(
    "tenants", directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("region", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
operators = Table(
    "operators", directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
sessions = Table(
    "sessions", directory_metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),  # operator / user
    Column("principal_id", BigInteger, nullable=False),
    Column("tenant_id", BigInteger, nullable=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_sessions_tenant", "tenant_id"),
)
login_index = Table(
    "login_index", directory_metadata,
    Column("username", String(200), primary_key=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Index("ix_login_index_tenant", "tenant_id"),
)
