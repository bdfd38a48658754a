"""Tables of the two kinds of database.

A region database holds the configuration of the tenants that live in that region: one
``entities`` row per entity, its fields as JSON, and a file's bytes beside it. The
directory database holds the global control plane: tenants, operators, sessions and the
login index. Both have an ``id_counter`` (see ``lifeboat.ids``) and an ``audit_log``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")


def now() -> datetime:
    return datetime.now(UTC)


def _id_counter(metadata: MetaData) -> Table:
    return Table(
        "id_counter",
        metadata,
        Column("name", String(40), primary_key=True),
        Column("next_id", BigInteger, nullable=False),
    )


def _audit_log(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
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
    "entities",
    region_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("tenant_id", BigInteger, nullable=False),
    Column("type", String(40), nullable=False),
    Column("natural_key", String(600), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("data", Json, nullable=False),
    Column("content", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Bumped on every write: lets a sync tell exactly what changed since it last looked,
    # with no reliance on clocks.
    Column("version", BigInteger, nullable=False, server_default="1"),
    UniqueConstraint("tenant_id", "type", "natural_key", name="uq_entities_natural_key"),
    # The version and the natural key ride along so that store/tallies.py's fingerprints and
    # the sync's narrow read of every entity (EntityRepo.rows) read the index alone.
    Index("ix_entities_tenant_type_version_key", "tenant_id", "type", "id", "version", "natural_key"),
)
# Which primary entity each BCP entity copies. Kept in the BCP tenant's region database,
# so that an entity and its correlation are committed together.
correlations = Table(
    "correlations",
    region_metadata,
    Column("bcp_tenant_id", BigInteger, primary_key=True),
    Column("type", String(40), primary_key=True),
    Column("primary_id", BigInteger, primary_key=True),
    Column("bcp_id", BigInteger, nullable=False),
    Column("primary_version", BigInteger, nullable=False),  # 0: written, references still pending
    Column("bcp_version", BigInteger, nullable=False),
    Column("synced_at", UTCDateTime, nullable=False),
    Column("notes", Json, nullable=True),  # unresolved references; a script's checklist
    UniqueConstraint("bcp_tenant_id", "bcp_id", name="uq_correlations_bcp_id"),
)


directory_metadata = MetaData()
directory_id_counter = _id_counter(directory_metadata)
directory_audit = _audit_log(directory_metadata)
tenants = Table(
    "tenants",
    directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("region", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
operators = Table(
    "operators",
    directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
sessions = Table(
    "sessions",
    directory_metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),  # operator / user
    Column("principal_id", BigInteger, nullable=False),
    Column("tenant_id", BigInteger, nullable=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_sessions_tenant", "tenant_id"),
)
bcp_plans = Table(
    "bcp_plans",
    directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("primary_tenant_id", BigInteger, nullable=False, unique=True),
    Column("bcp_tenant_id", BigInteger, nullable=False, unique=True),
    Column("passkey_hash", Text, nullable=False),
    Column("active_side", String(10), nullable=False),  # primary / bcp
    Column("epoch", BigInteger, nullable=False),
    Column("sync_enabled", Boolean, nullable=False),
    Column("sync_settings", Json, nullable=False),
    Column("sync_enabled_at", UTCDateTime, nullable=True),
    Column("next_run_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("stale_since", UTCDateTime, nullable=True),  # the open RPO alarm (services.bcp.freshness)
)
sync_runs = Table(
    "sync_runs",
    directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("plan_id", BigInteger, nullable=False),
    Column("trigger", String(20), nullable=False),  # manual / scheduled / enable
    Column("force", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("scheduled_for", UTCDateTime, nullable=True),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("requested_by", String(200), nullable=False),
    Column("lease_owner", String(100), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("report", Json, nullable=True),  # counts, drift, warnings, errors, checklist
    UniqueConstraint("plan_id", "scheduled_for", name="uq_sync_runs_occurrence"),
    Index("ix_sync_runs_plan", "plan_id", "id"),
    Index("ix_sync_runs_status", "status", "queued_at"),
)
switch_attempts = Table(
    "switch_attempts",
    directory_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("to_side", String(10), nullable=False),
    Column("outcome", String(30), nullable=False),  # switched / wrong_passkey / locked / ...
    Index("ix_switch_attempts_plan_at", "plan_id", "at"),
)
# One row per committed switch or revert (SPEC §14): how long it took, how old the BCP copy
# was (the last successful sync), and when the first call was routed to and the first user
# logged in to the side it made active -- filled in by those lookups and logins themselves.
switches = Table(
    "switches",
    directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("plan_id", BigInteger, nullable=False),
    Column("epoch", BigInteger, nullable=False),  # the plan's epoch this switch began
    Column("to_side", String(10), nullable=False),
    Column("to_tenant_id", BigInteger, nullable=False),
    Column("from_tenant_id", BigInteger, nullable=False),  # the tenant the switch was asked in
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("switch_ms", Float, nullable=True),  # set once the switch has committed and its effects run
    Column("last_sync_at", UTCDateTime, nullable=True),  # the newest successful sync then; None: never synced
    Column("first_call_at", UTCDateTime, nullable=True),
    Column("first_login_at", UTCDateTime, nullable=True),
    UniqueConstraint("to_tenant_id", "epoch", name="uq_switches_to_tenant_epoch"),
    Index("ix_switches_plan_at", "plan_id", "at"),
)
alert_subscriptions = Table(
    "alert_subscriptions",
    directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("tenant_id", BigInteger, nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # webhook / email
    Column("target", String(500), nullable=False),  # URL or email address
    Column("secret", String(200), nullable=True),  # HMAC key of a webhook: needed to sign, so kept as is
    Column("events", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
# Alerts to deliver, written in the same transaction as what caused them and sent after
# it commits; retried with backoff.
alert_outbox = Table(
    "alert_outbox",
    directory_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", BigInteger, nullable=False),
    Column("event", String(40), nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(20), nullable=False),  # pending / delivered / failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index("ix_alert_outbox_due", "status", "next_attempt_at"),
)
region_states = Table(
    "region_states",
    directory_metadata,
    Column("region", String(40), primary_key=True),
    Column("status", String(10), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)
login_index = Table(
    "login_index",
    directory_metadata,
    Column("username", String(200), primary_key=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=True),  # see services.tenancy.usernames.CLAIM_GRACE
    Index("ix_login_index_tenant", "tenant_id"),
)
# Failed logins per username and per client address (see lifeboat.domain.throttle), shared
# by every replica. A row is deleted once its key has been quiet for a whole window.
login_failures = Table(
    "login_failures",
    directory_metadata,
    Column("scope", String(10), primary_key=True),  # username / address
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("locks", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("last_failure_at", UTCDateTime, nullable=False),
    Column("forgotten_at", UTCDateTime, nullable=False),
    Index("ix_login_failures_forgotten_at", "forgotten_at"),
)

# The voice edges that registered (SPEC §12): where lifeboat reaches each one's RPC to flush
# its route cache after a switch, when it was last heard from and its answers by code.
voice_edges = Table(
    "voice_edges",
    directory_metadata,
    Column("name", String(63), primary_key=True),
    Column("rpc_url", String(300), nullable=False),
    Column("token_name", String(200), nullable=False),  # the voice token it registered with
    Column("answers", Json, nullable=False),  # {"302": n, "404": n, ...} as the edge counted
    Column("registered_at", UTCDateTime, nullable=False),
    Column("last_heard_at", UTCDateTime, nullable=False),
)
drills = Table(
    "drills",
    directory_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("plan_id", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),  # running / ended
    Column("numbers", Json, nullable=False),  # the test numbers, as given
    Column("routes", Json, nullable=False),  # test number -> id of its BCP copy
    Column("users", Json, nullable=False),  # the pilots' usernames (lower case)
    Column("started_by", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("ended_by", String(200), nullable=True),  # an actor, "switch" or "time_limit"
    Column("calls_routed", Integer, nullable=False),
    Column("pilot_logins", Integer, nullable=False),
    Column("first_call_s", Float, nullable=True),
    Column("first_login_s", Float, nullable=True),
    Column("readiness", Json, nullable=False),
    Index("ix_drills_plan", "plan_id", "id"),
    # At most one running drill per plan, whoever starts it and on whichever replica.
    Index(
        "ux_drills_running",
        "plan_id",
        unique=True,
        postgresql_where=text("status = 'running'"),
        sqlite_where=text("status = 'running'"),
    ),
)
