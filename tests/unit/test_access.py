"""Who is acting and what they may do (lifeboat.domain.access)."""

from __future__ import annotations

from lifeboat.domain.access import SYSTEM, Principal

AGENT = Principal("user", 7, "ada", tenant_id=100, permissions=frozenset({"acd.view", "agent"}))
OPERATOR = Principal("operator", 1, "ops")


def test_a_user_may_do_what_its_permissions_name_and_nothing_else():
    assert AGENT.can("acd.view")
    assert not AGENT.can("acd.edit")
    assert not AGENT.can("admin.view")


def test_an_operator_may_do_everything():
    assert all(OPERATOR.can(p) for p in ("acd.edit", "admin.edit", "bcp.enablement.edit", "anything"))


def test_a_user_enters_its_own_tenant_only():
    assert AGENT.may_enter(100)
    assert not AGENT.may_enter(101)


def test_an_operator_enters_every_tenant():
    assert OPERATOR.may_enter(100) and OPERATOR.may_enter(101)


def test_the_actor_in_the_audit_log_says_who_and_what_kind():
    assert (AGENT.actor, OPERATOR.actor) == ("user:ada", "operator:ops")


def test_a_user_without_a_tenant_enters_none():
    lost = Principal("user", 8, "lost")

    assert not lost.may_enter(100)
    assert not lost.is_operator


def test_the_system_principal_acts_as_an_operator():
    assert SYSTEM.is_operator and SYSTEM.actor == "operator:system"
