"""The first call and the first login after a switch (SPEC §14), stamped on its record by the
route lookup and the login themselves (``services.bcp.switch_history`` writes and reads the
records). A group of its own below tenancy and bcp: the login (tenancy) and routing (bcp)
both stamp, and neither may import the other's group.

Routing answers thousands of lookups a second, so each process tries each stamp once per
switch and remembers that it did: one conditional UPDATE, then a set lookup per call. The
condition (``… IS NULL``) keeps the earliest stamp when several processes race. A lookup or
a login at another epoch than the switch's (before it, or answered from a route table older
than it) matches no record.
"""

from __future__ import annotations

import logging

from lifeboat.bootstrap import Platform
from lifeboat.errors import LifeboatError
from lifeboat.store.tables import now

log = logging.getLogger("lifeboat.switches")

NOTED = "switch_firsts"  # platform.caches: the (column, tenant, epoch) stamps this process has tried


def note_first_call(platform: Platform, tenant_id: int, epoch: int | None) -> None:
    """A route lookup was answered for ``tenant_id`` at ``epoch`` (None: a tenant without a plan)."""
    if epoch is not None:
        _note(platform, "first_call_at", tenant_id, epoch)


def note_first_login(platform: Platform, tenant_id: int, epoch: int) -> None:
    """A user logged in to ``tenant_id`` while its plan was at ``epoch``."""
    _note(platform, "first_login_at", tenant_id, epoch)


def _note(platform: Platform, column: str, tenant_id: int, epoch: int) -> None:
    key = (column, tenant_id, epoch)
    noted: set[tuple[str, int, int]] | None = platform.caches.get(NOTED)
    if noted is None:
        noted = platform.caches.setdefault(NOTED, set())
    if key in noted:
        return
    noted.add(key)  # before the write: a lost directory is tried once, not on every call
    at = now()
    try:
        with platform.directory_unit() as uow:
            uow.switches.set_first(column, tenant_id, epoch, at)
    except LifeboatError as exc:
        log.warning("tenant %s epoch %s: %s not stored: %s", tenant_id, epoch, column, exc)
