"""The one way to write over the directory and a region: two databases, nothing commits both.

The directory holds the claim, the region holds the thing: claim first, write second, settle
or give back third. Each step commits alone, so a failure half-way leaves at worst a claim
without its thing, never a thing nobody claimed:

    1. claim(directory unit)            -> the claim commits (a tenant row, a username, ...)
    2. write(region unit, claim)        -> the thing commits in the region
    3a. settle(directory unit, claim, result)   on success: point the claim at what exists
    3b. give_back(directory unit, claim)        on failure: the claim is freed, the error raised

A crash between 1 and 3 (or a give-back that cannot reach the directory) leaves a claim
without its thing; every claim must be recognisable as stale by whoever meets it next (the
login index: a pending claim older than ``usernames.CLAIM_GRACE`` whose user does not exist;
a tenant: a tenant without its business unit still works, ``PUT business-unit`` creates it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from lifeboat.bootstrap import Platform
from lifeboat.store.database import Region
from lifeboat.store.units import DirectoryUnit, RegionUnit

log = logging.getLogger("lifeboat.spanning")
C = TypeVar("C")
R = TypeVar("R")


def write_across(
    platform: Platform,
    region: Region,
    *,
    claim: Callable[[DirectoryUnit], C],
    write: Callable[[RegionUnit, C], R],
    give_back: Callable[[DirectoryUnit, C], None],
    settle: Callable[[DirectoryUnit, C, R], None] | None = None,
) -> R:
    """Claim in the directory, write in ``region``, then settle or give the claim back."""
    with platform.directory_unit() as uow:
        claimed = claim(uow)
    try:
        with platform.region_unit(region) as uow:
            result = write(uow, claimed)
    except BaseException:
        _give_back(platform, give_back, claimed)
        raise
    if settle is not None:
        with platform.directory_unit() as uow:
            settle(uow, claimed, result)
    return result


def _give_back(platform: Platform, give_back: Callable[[DirectoryUnit, C], None], claimed: C) -> None:
    """Free the claim; if that fails too, the claim stays behind as a stale one and the
    caller hears of the first failure, the one that explains what went wrong."""
    try:
        with platform.directory_unit() as uow:
            give_back(uow, claimed)
    except Exception:
        log.exception("giving back %r failed: the claim stays until it is recognised as stale", claimed)
