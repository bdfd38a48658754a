"""The plan's passkey, checked the same way for everything it guards (a switch, a drill).

Every try is recorded in ``switch_attempts`` (``to_side`` names what was tried), so wrong
passkeys given to any of them count toward one lock: five in 15 minutes lock the plan's
passkey for 15 minutes (``domain.switchover``), and the lock raises ``passkey_locked``.
"""

from __future__ import annotations

from datetime import datetime

from lifeboat.bootstrap import Platform
from lifeboat.domain.records import AlertEvent, BcpPlan
from lifeboat.domain.switchover import COUNTED, WINDOW, locked_until
from lifeboat.errors import Forbidden, Invalid, LifeboatError, Locked
from lifeboat.services.bcp.pairing import PairedTenants
from lifeboat.services.tenancy.auth import verify_password
from lifeboat.store.units import DirectoryUnit

PASSKEY_FAILURES = ("wrong_passkey", "locked")  # the outcomes counted as passkey failures in /metrics


def refusal(
    platform: Platform,
    uow: DirectoryUnit,
    tenants: PairedTenants,
    plan: BcpPlan,
    passkey: str,
    correct: bool,
    problems: list[dict[str, str]],
    at: datetime,
) -> tuple[str, LifeboatError] | None:
    """Why this try may not go ahead (its outcome and error), or None. ``correct`` is the
    passkey checked against ``tenants.plan`` before the transaction (a slow hash never holds
    the directory's write lock); ``plan`` is the locked current one; ``at`` is now."""
    unlock = locked_until(uow.switch_attempts.failed_since(plan.id, at - 2 * WINDOW, COUNTED), at)
    if unlock is not None:
        return "locked", _locked(unlock)
    if problems:
        return "bad_input", Invalid.fields(problems)
    if plan.passkey_hash == tenants.plan.passkey_hash:
        right = correct
    else:  # regenerated meanwhile
        right = verify_password(platform, plan.passkey_hash, passkey)
    if not right:
        return "wrong_passkey", Forbidden("The passkey is wrong; nothing changed.", code="wrong_passkey")
    return None


def record_try(
    platform: Platform,
    uow: DirectoryUnit,
    tenants: PairedTenants,
    actor: str,
    tried: str,
    outcome: str,
    at: datetime,
) -> None:
    """Keep the try on record, count a failure for /metrics, and alert if it locked the passkey."""
    uow.switch_attempts.record(tenants.plan.id, actor, tried, outcome)
    if outcome in PASSKEY_FAILURES:
        uow.after_commit(lambda: platform.metrics.passkey_failed(outcome))
    if outcome in COUNTED:
        failures = uow.switch_attempts.failed_since(tenants.plan.id, at - 2 * WINDOW, COUNTED)
        _alert_if_now_locked(uow, tenants, failures, at)


def _alert_if_now_locked(uow: DirectoryUnit, tenants: PairedTenants, failures: list[datetime], at: datetime) -> None:
    unlock = locked_until(failures, at)
    if unlock is not None:
        uow.alert(
            tenants.ids,
            AlertEvent.PASSKEY_LOCKED,
            {
                "plan_id": tenants.plan.id,
                "unlock_at": unlock.isoformat(),
                "summary": f"switching locked for {tenants.primary.name}",
            },
        )


def _locked(unlock: datetime) -> Locked:
    return Locked(
        f"Too many wrong passkeys: switching is locked until {unlock.isoformat()}.",
        code="passkey_locked",
        details={"unlock_at": unlock.isoformat()},
    )
