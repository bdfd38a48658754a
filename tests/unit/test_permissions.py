"""The escalation rule as a table: who may write a role or user carrying which permissions."""

from __future__ import annotations

import pytest

from lifeboat.domain.permissions import GRANTS_MORE, TARGET_STRONGER, escalation, is_stronger

ADMIN = frozenset({"admin.view", "admin.edit"})
EVERYTHING = frozenset({"admin.view", "admin.edit", "acd.view", "acd.edit", "agent"})
AGENT = frozenset({"acd.view", "agent"})
NONE = frozenset()
BEYOND_ADMIN = ("acd.edit", "acd.view", "agent")  # what EVERYTHING holds and ADMIN lacks, sorted


@pytest.mark.parametrize(
    ("case", "held", "before", "after", "expected"),
    [
        # creating: what it carries must be within the writer's permissions
        ("create a role with every permission", ADMIN, None, EVERYTHING, (GRANTS_MORE, BEYOND_ADMIN)),
        ("create a role with part of mine", ADMIN, None, {"admin.view"}, None),
        ("create a role with exactly mine", ADMIN, None, ADMIN, None),
        ("create a role with nothing", ADMIN, None, NONE, None),
        # editing a role
        (
            "add a permission I lack to a role",
            ADMIN,
            {"admin.view"},
            {"admin.view", "agent"},
            (GRANTS_MORE, ("agent",)),
        ),
        ("add a permission I hold to a role", ADMIN, {"admin.view"}, ADMIN, None),
        ("remove permissions from a stronger role", ADMIN, EVERYTHING, ADMIN, (TARGET_STRONGER, BEYOND_ADMIN)),
        ("deactivate or delete a stronger role", ADMIN, EVERYTHING, None, (TARGET_STRONGER, BEYOND_ADMIN)),
        ("delete a weaker role", ADMIN, {"admin.view"}, None, None),
        # users carry their role's permissions
        ("give myself a stronger role", ADMIN, ADMIN, EVERYTHING, (GRANTS_MORE, BEYOND_ADMIN)),
        ("give someone a role stronger than mine", ADMIN, NONE, AGENT, (GRANTS_MORE, ("acd.view", "agent"))),
        ("give someone a role within mine", EVERYTHING, NONE, AGENT, None),
        (
            "change a stronger user's password (role unchanged)",
            ADMIN,
            EVERYTHING,
            EVERYTHING,
            (TARGET_STRONGER, ("acd.edit", "acd.view", "agent")),
        ),
        ("demote a stronger user", ADMIN, EVERYTHING, NONE, (TARGET_STRONGER, ("acd.edit", "acd.view", "agent"))),
        ("change an equal user", ADMIN, ADMIN, ADMIN, None),
        ("demote myself", EVERYTHING, EVERYTHING, AGENT, None),
        ("a user without a role writes a user without a role", NONE, NONE, NONE, None),
        # operators are exempt
        ("operator gives every permission", None, None, EVERYTHING, None),
        ("operator edits the strongest user", None, EVERYTHING, EVERYTHING, None),
    ],
)
def test_the_escalation_rule(case, held, before, after, expected):
    refusal = escalation(held, before=before, after=after)

    assert (None if refusal is None else (refusal.reason, refusal.missing)) == expected, case


def test_a_refusal_names_the_missing_permissions_in_its_message():
    refusal = escalation(ADMIN, before=None, after={"admin.view", "acd.edit"})

    assert "acd.edit" in refusal.message and "admin.view" not in refusal.message


@pytest.mark.parametrize(
    ("theirs", "mine", "stronger"),
    [
        (EVERYTHING, ADMIN, True),
        (ADMIN, EVERYTHING, False),
        (ADMIN, ADMIN, False),
        (NONE, NONE, False),
        ({"agent"}, ADMIN, True),  # not a superset either way: still out of reach
    ],
)
def test_stronger_means_not_a_subset(theirs, mine, stronger):
    assert is_stronger(theirs, mine) is stronger
