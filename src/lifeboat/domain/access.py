"""Who is acting and what they may do. Pure values; no database."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """An operator (platform account, every tenant) or a user of one tenant."""

    kind: str  # "operator" or "user"
    id: int
    name: str
    tenant_id: int | None = None
    permissions: frozenset[str] = frozenset()
    token_hash: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator"

    @property
    def actor(self) -> str:
        return f"operator:{self.name}" if self.is_operator else f"user:{self.name}"

    def can(self, permission: str) -> bool:
        return self.is_operator or permission in self.permissions

    def may_enter(self, tenant_id: int) -> bool:
        return self.is_operator or self.tenant_id == tenant_id


SYSTEM = Principal(kind="operator", id=0, name="system")
