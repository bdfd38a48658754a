"""The order entity types are synced in, derived from their links (``sync.order``)."""

from __future__ import annotations

import pytest

from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.sync.order import SCRIPT_TARGETS, is_deferred, sync_order, type_order


def position(type_name: str) -> int:
    return type_order().index(type_name)


def test_every_entity_type_is_synced_exactly_once():
    assert sorted(type_order()) == sorted(ENTITY_TYPES)
    assert len(type_order()) == len(ENTITY_TYPES)


@pytest.mark.parametrize(("type_name", "link"), [
    (name, link) for name, kind in ENTITY_TYPES.items() for link in kind.links
])
def test_a_type_comes_after_the_types_it_refers_to_unless_the_link_is_deferred(type_name, link):
    if is_deferred(type_name, link.field):
        assert position(link.target) > position(type_name)
    else:
        assert position(link.target) < position(type_name)


def test_the_only_deferred_link_is_the_team_of_a_user():
    assert sync_order()[1] == frozenset({("users", "team_id")})


def test_users_come_before_teams_so_a_team_is_written_with_its_lead():
    assert position("users") < position("teams")
    assert is_deferred("users", "team_id")
    assert not is_deferred("teams", "lead_user_id")


@pytest.mark.parametrize("target", SCRIPT_TARGETS)
def test_scripts_come_after_every_type_their_content_names(target):
    assert position(target) < position("scripts")


def test_agent_settings_come_after_users_and_skills():
    assert position("agent-settings") > max(position("users"), position("skills"))


def test_the_order_is_the_same_every_time():
    sync_order.cache_clear()
    first = sync_order()
    sync_order.cache_clear()
    assert sync_order() == first


def test_the_types_of_a_cycle_are_written_together_and_every_type_exactly_once():
    from lifeboat.sync.order import type_order, write_groups

    groups = write_groups()
    assert ("users", "teams") in groups
    assert [t for group in groups for t in group] == list(type_order())
