"""The login rules of SPEC §5 as a table: BCP type × active side × tenant asked × user origin.

``decide_login`` answers ``enter`` a side, ``choose`` between both, or ``denied``. A user
created directly in a BCP tenant (origin ``bcp``) always has a plan, so "no plan" rows exist
only for users of a primary (or standalone) tenant.
"""

from __future__ import annotations

import pytest

from lifeboat.domain.access import LoginDecision, decide_login

NO_PLAN = None
ANY = None  # no tenant asked for
PRIMARY, BCP = "primary", "bcp"
CHOOSE, DENIED = "choose", "denied"

# (bcp_type, active side, tenant asked for, expected) for users of the primary tenant.
PRIMARY_USERS = [
    # none: the primary only, and nothing at all while BCP is active
    ("none", PRIMARY, ANY, PRIMARY),
    ("none", PRIMARY, PRIMARY, PRIMARY),
    ("none", PRIMARY, BCP, DENIED),
    ("none", BCP, ANY, DENIED),
    ("none", BCP, PRIMARY, DENIED),
    ("none", BCP, BCP, DENIED),
    ("none", NO_PLAN, ANY, PRIMARY),
    ("none", NO_PLAN, PRIMARY, PRIMARY),
    ("none", NO_PLAN, BCP, DENIED),
    # single: whichever tenant is active, automatically, and only that one
    ("single", PRIMARY, ANY, PRIMARY),
    ("single", PRIMARY, PRIMARY, PRIMARY),
    ("single", PRIMARY, BCP, DENIED),
    ("single", BCP, ANY, BCP),
    ("single", BCP, PRIMARY, DENIED),
    ("single", BCP, BCP, BCP),
    ("single", NO_PLAN, ANY, PRIMARY),
    ("single", NO_PLAN, PRIMARY, PRIMARY),
    ("single", NO_PLAN, BCP, DENIED),
    # multiple: chooses either tenant at any time; without a plan there is nothing to choose
    ("multiple", PRIMARY, ANY, CHOOSE),
    ("multiple", PRIMARY, PRIMARY, PRIMARY),
    ("multiple", PRIMARY, BCP, BCP),
    ("multiple", BCP, ANY, CHOOSE),
    ("multiple", BCP, PRIMARY, PRIMARY),
    ("multiple", BCP, BCP, BCP),
    ("multiple", NO_PLAN, ANY, PRIMARY),
    ("multiple", NO_PLAN, PRIMARY, PRIMARY),
    ("multiple", NO_PLAN, BCP, DENIED),
]

# Users created directly in the BCP tenant: that tenant only, whatever their type and side.
BCP_ONLY_USERS = [
    (bcp_type, active, asked, expected)
    for bcp_type in ("none", "single", "multiple")
    for active in (PRIMARY, BCP)
    for asked, expected in ((ANY, BCP), (PRIMARY, DENIED), (BCP, BCP))
]

TABLE = [(*row[:3], PRIMARY, row[3]) for row in PRIMARY_USERS] + [(*row[:3], BCP, row[3]) for row in BCP_ONLY_USERS]


def outcome(decision: LoginDecision) -> str:
    """One word for a decision, checking that it says exactly one thing."""
    said = [decision.enter is not None, decision.choose, decision.denied is not None]
    assert sum(said) == 1, decision
    if decision.denied is not None:
        assert decision.denied.strip(), "a refusal says why"
        return DENIED
    return CHOOSE if decision.choose else decision.enter


@pytest.mark.parametrize(
    ("bcp_type", "active_side", "requested", "origin", "expected"),
    TABLE,
    ids=[f"{t}-active_{a or 'noplan'}-asks_{r or 'any'}-from_{o}" for t, a, r, o, _ in TABLE],
)
def test_login_rule(bcp_type, active_side, requested, origin, expected):
    decision = decide_login(bcp_type=bcp_type, active_side=active_side, origin=origin, requested=requested)

    assert outcome(decision) == expected


def test_the_table_covers_every_reachable_combination():
    rows = {(t, a, r, o) for t, a, r, o, _ in TABLE}

    assert len(rows) == len(TABLE) == 3 * 3 * 3 + 3 * 2 * 3
