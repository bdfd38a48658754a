"""Repositories over the directory database: tenants, operators, sessions, login index."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from lifeboat.domain.records import Operator, Session, Tenant
from lifeboat.ids import DIRECTORY_BLOCK, is_id
from lifeboat.store.counter import take_ids
from lifeboat.store.tables import directory_id_counter, login_index, now, operators, sessions, tenants


class TenantRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def create(self, name: str, region: str) -> Tenant:
        tenant_id = take_ids(self.conn, directory_id_counter, DIRECTORY_BLOCK)[0]
        created = now()
        self.conn.execute(insert(tenants).values(id=tenant_id, name=name, region=region, created_at=created))
        return Tenant(tenant_id, name, region, created)

    def get(self, tenant_id: int) -> Tenant | None:
        if not is_id(tenant_id):  # e.g. a path id too large for the column
            return None
        row = self.conn.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        return Tenant(row.id, row.name, row.region, row.created_at) if row else None

    def by_name(self, name: str) -> Tenant | None:
        row = self.conn.execute(select(tenants).where(tenants.c.name == name)).first()
        return Tenant(row.id, row.name, row.region, row.created_at) if row else None

    def delete(self, tenant_id: int) -> None:
        """Only for a tenant just created whose business unit could not be written."""
        self.conn.execute(delete(tenants).where(tenants.c.id == tenant_id))

    def page(self, *, limit: int, offset: int, ids: list[int] | None = None) -> tuple[list[Tenant], int]:
        where = [tenants.c.id.in_(ids)] if ids is not None else []
        total = self.conn.execute(select(func.count()).select_from(tenants).where(*where)).scalar_one()
        rows = self.conn.execute(select(tenants).where(*where).order_by(tenants.c.id).limit(limit).offset(offset))
        return [Tenant(r.id, r.name, r.region, r.created_at) for r in rows], total


class OperatorRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def create(self, name: str, password_hash: str) -> Operator:
        operator_id = take_ids(self.conn, directory_id_counter, DIRECTORY_BLOCK)[0]
        self.conn.execute(
            insert(operators).values(id=operator_id, name=name, password_hash=password_hash, created_at=now())
        )
        return Operator(operator_id, name, password_hash)

    def by_name(self, name: str) -> Operator | None:
        row = self.conn.execute(select(operators).where(operators.c.name == name)).first()
        return Operator(row.id, row.name, row.password_hash) if row else None

    def get(self, operator_id: int) -> Operator | None:
        row = self.conn.execute(select(operators).where(operators.c.id == operator_id)).first()
        return Operator(row.id, row.name, row.password_hash) if row else None

    def names_among(self, names: Iterable[str]) -> set[str]:
        """Which of ``names`` are operator names (a user may not take one)."""
        found: set[str] = set()
        for chunk in _chunks(list(names)):
            found.update(self.conn.execute(select(operators.c.name).where(operators.c.name.in_(chunk))).scalars())
        return found

    def set_password(self, operator_id: int, password_hash: str) -> None:
        self.conn.execute(operators.update().where(operators.c.id == operator_id).values(password_hash=password_hash))


class SessionRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def create(self, session: Session) -> None:
        self.conn.execute(
            insert(sessions).values(
                token_hash=session.token_hash,
                kind=session.kind,
                principal_id=session.principal_id,
                tenant_id=session.tenant_id,
                name=session.name,
                created_at=now(),
                expires_at=session.expires_at,
            )
        )

    def get(self, token_hash: str) -> Session | None:
        row = self.conn.execute(select(sessions).where(sessions.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return Session(row.token_hash, row.kind, row.principal_id, row.tenant_id, row.name, row.expires_at)

    def end(self, token_hash: str) -> None:
        self.conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    def end_for_tenants(self, tenant_ids: list[int]) -> int:
        return self.conn.execute(delete(sessions).where(sessions.c.tenant_id.in_(tenant_ids))).rowcount

    def end_for_user(self, tenant_id: int, user_id: int) -> int:
        return self.conn.execute(
            delete(sessions).where(
                sessions.c.tenant_id == tenant_id,
                sessions.c.kind == "user",
                sessions.c.principal_id == user_id,
            )
        ).rowcount

    def purge_expired(self) -> int:
        return self.conn.execute(delete(sessions).where(sessions.c.expires_at < now())).rowcount


class LoginIndexRepo:
    """username -> (tenant, user) for primary tenants: usernames are unique across them."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def reserve(self, username: str, tenant_id: int, user_id: int) -> bool:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(login_index).values(
                        username=username, tenant_id=tenant_id, user_id=user_id, claimed_at=now()
                    )
                )
            return True
        except IntegrityError:
            return False

    def reserve_many(self, tenant_id: int, user_ids: Mapping[str, int]) -> None:
        """Claim many free usernames at once; a name taken meanwhile raises IntegrityError."""
        stamp = now()
        rows = [
            {"username": name, "tenant_id": tenant_id, "user_id": uid, "claimed_at": stamp}
            for name, uid in user_ids.items()
        ]
        if rows:
            self.conn.execute(insert(login_index), rows)

    def owners(self, usernames: Iterable[str]) -> dict[str, tuple[int, int]]:
        """username -> (tenant id, user id) for those of ``usernames`` that are claimed."""
        found = {}
        for chunk in _chunks(list(usernames)):
            rows = self.conn.execute(select(login_index).where(login_index.c.username.in_(chunk)))
            found.update({r.username: (r.tenant_id, r.user_id) for r in rows})
        return found

    def lookup(self, username: str) -> tuple[int, int] | None:
        row = self.conn.execute(select(login_index).where(login_index.c.username == username)).first()
        return (row.tenant_id, row.user_id) if row else None

    def claimed_at(self, username: str) -> datetime | None:
        """When the name was last claimed (None for claims older than the column)."""
        return self.conn.execute(select(login_index.c.claimed_at).where(login_index.c.username == username)).scalar()

    def release(self, username: str, tenant_id: int, user_id: int) -> None:
        self.conn.execute(
            delete(login_index).where(
                login_index.c.username == username,
                login_index.c.tenant_id == tenant_id,
                login_index.c.user_id == user_id,
            )
        )

    def release_tenant(self, tenant_id: int) -> None:
        self.conn.execute(delete(login_index).where(login_index.c.tenant_id == tenant_id))


def _chunks(values: list[str], size: int = 1000) -> Iterable[list[str]]:
    # Bounded IN lists: SQLite and PostgreSQL both limit the parameters of one statement.
    return (values[i : i + size] for i in range(0, len(values), size))
