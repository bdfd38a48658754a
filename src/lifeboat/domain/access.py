"""Who is acting and what they may do. Pure values; no database."""

from __future__ import annotations

from dataclasses import dataclass

from lifeboat.domain.records import Side


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


# --------------------------------------------------------------------------- BCP login rules


@dataclass(frozen=True)
class LoginDecision:
    """Where a login goes: one side, a choice between both, or nowhere (with the reason)."""

    enter: Side | None = None
    choose: bool = False
    denied: str | None = None


def decide_login(*, bcp_type: str, active_side: Side | None, origin: Side, requested: str | None) -> LoginDecision:
    """The BCP-type rules of SPEC §5 for one login attempt.

    ``active_side`` is None for a tenant without a BCP plan; ``origin`` is ``bcp`` for a
    user created directly in a BCP tenant (not a synced copy); ``requested`` is the side
    the user asked for, or None.
    """
    if origin == Side.BCP:  # BCP-only users live in the BCP tenant and nowhere else
        return _only(Side.BCP, requested, "This user exists in the BCP tenant only.")
    if active_side is None:
        return _only(Side.PRIMARY, requested, "This tenant has no BCP tenant.")
    if bcp_type == "multiple":
        return LoginDecision(choose=True) if requested is None else LoginDecision(enter=Side(requested))
    if bcp_type == "single":
        return _only(active_side, requested, f"Single BCP access enters the active tenant only ({active_side}).")
    if active_side == Side.BCP:
        return LoginDecision(denied="The BCP tenant is active and this user has no BCP access.")
    return _only(Side.PRIMARY, requested, "This user has no BCP access.")


def _only(side: Side, requested: str | None, reason: str) -> LoginDecision:
    return LoginDecision(enter=side) if requested in (None, side) else LoginDecision(denied=reason)
