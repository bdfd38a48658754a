"""The order entity types are written in by the sync and the bulk loader, derived from their
links, references mapped through ids, and the book of ids both writers keep (``domain.graph``)."""

from __future__ import annotations

import pytest

from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.domain.graph import (
    SCRIPT_TARGETS,
    IdBook,
    is_deferred,
    map_links,
    type_order,
    write_groups,
    write_order,
)


def position(type_name: str) -> int:
    return type_order().index(type_name)


def test_every_entity_type_is_synced_exactly_once():
    assert sorted(type_order()) == sorted(ENTITY_TYPES)
    assert len(type_order()) == len(ENTITY_TYPES)


@pytest.mark.parametrize(
    ("type_name", "link"), [(name, link) for name, kind in ENTITY_TYPES.items() for link in kind.links]
)
def test_a_type_comes_after_the_types_it_refers_to_unless_the_link_is_deferred(type_name, link):
    if is_deferred(type_name, link.field):
        assert position(link.target) > position(type_name)
    else:
        assert position(link.target) < position(type_name)


def test_the_only_deferred_link_is_the_team_of_a_user():
    assert write_order()[1] == frozenset({("users", "team_id")})


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
    write_order.cache_clear()
    first = write_order()
    write_order.cache_clear()
    assert write_order() == first


def test_the_types_of_a_cycle_are_written_together_and_every_type_exactly_once():
    groups = write_groups()
    assert ("users", "teams") in groups
    assert [t for group in groups for t in group] == list(type_order())


NEW_IDS = {1: 101, 2: 102, 3: 103}


def to_new(link, value):
    return NEW_IDS.get(value)


def test_links_of_every_shape_are_mapped_and_lists_sorted_by_the_new_ids():
    data = {"name": "Billing", "hours_of_operation_id": 1, "disposition_ids": [3, 2]}
    assert map_links(ENTITY_TYPES["skills"], data, to_new) == set()
    assert data == {"name": "Billing", "hours_of_operation_id": 101, "disposition_ids": [102, 103]}
    settings = {"user_id": 2, "skills": [{"skill_id": 3, "proficiency": 5}, {"skill_id": 1, "proficiency": 9}]}
    map_links(ENTITY_TYPES["agent-settings"], settings, to_new)
    assert settings["skills"] == [{"skill_id": 101, "proficiency": 9}, {"skill_id": 103, "proficiency": 5}]


def test_a_target_without_an_id_yet_is_left_out_and_its_field_reported_waiting():
    data = {"hours_of_operation_id": 9, "disposition_ids": [1, 9]}
    assert map_links(ENTITY_TYPES["skills"], data, to_new) == {"hours_of_operation_id", "disposition_ids"}
    assert data == {"hours_of_operation_id": None, "disposition_ids": [101]}


def test_values_that_are_not_ids_are_left_for_validation_to_name():
    data = {"disposition_ids": "not a list", "hours_of_operation_id": None}
    assert map_links(ENTITY_TYPES["skills"], data, to_new) == set()
    assert data == {"disposition_ids": "not a list", "hours_of_operation_id": None}
    settings = {"skills": [{"proficiency": 5}]}
    map_links(ENTITY_TYPES["agent-settings"], settings, to_new)
    assert settings == {"skills": [{"proficiency": 5}]}


# --- IdBook ----------------------------------------------------------------------------------


class Counter:
    """An id counter that remembers what it was asked for."""

    def __init__(self, start: int = 500):
        self.next = start
        self.calls: list[int] = []

    def __call__(self, count: int) -> range:
        self.calls.append(count)
        self.next += count
        return range(self.next - count, self.next)


def key_of(link, value):
    return value if isinstance(value, str) else None  # strings stand for the writer's keys, ints are ids


def test_ids_are_given_in_the_order_of_the_keys_from_one_allocation():
    book, counter = IdBook(), Counter()
    assert book.give(["b", "a", "c"], counter) == range(500, 503)
    assert book.ids == {"b": 500, "a": 501, "c": 502}
    assert counter.calls == [3]


def test_no_keys_take_no_ids():
    book, counter = IdBook(), Counter()
    assert book.give([], counter) == range(0)
    assert counter.calls == []


def test_known_ids_are_copied_and_learned_ones_added():
    known = {"a": 7}
    book = IdBook(known)
    book.know("b", 8)
    book.give(["c"], Counter())
    assert book.ids == {"a": 7, "b": 8, "c": 500}
    assert known == {"a": 7}


def test_keys_resolve_through_the_book_and_ids_stay_as_they_are():
    book = IdBook({"hours": 40, "d1": 30})
    data = {"name": "Billing", "hours_of_operation_id": "hours", "disposition_ids": ["d1", 12]}
    assert book.resolve(ENTITY_TYPES["skills"], data, key_of) == set()
    assert data == {"name": "Billing", "hours_of_operation_id": 40, "disposition_ids": [12, 30]}


def test_a_key_without_an_id_yet_is_left_out_and_its_field_waits():
    book = IdBook({"s1": 9})
    data = {"user_id": 4, "skills": [{"skill_id": "later", "proficiency": 1}, {"skill_id": "s1", "proficiency": 2}]}
    assert book.resolve(ENTITY_TYPES["agent-settings"], data, key_of) == {"skills"}
    assert data == {"user_id": 4, "skills": [{"skill_id": 9, "proficiency": 2}]}


def test_a_cycle_resolves_at_once_when_the_whole_group_has_its_ids_first():
    book, counter = IdBook(), Counter()
    book.give(["ann"], counter)  # the users of the group
    book.give(["sales"], counter)  # its teams
    user = {"username": "ann", "team_id": "sales"}
    team = {"name": "Sales", "lead_user_id": "ann"}
    assert book.resolve(ENTITY_TYPES["users"], user, key_of) == set()
    assert book.resolve(ENTITY_TYPES["teams"], team, key_of) == set()
    assert (user["team_id"], team["lead_user_id"]) == (501, 500)


def test_waiting_items_are_kept_in_order_until_filled_in():
    book = IdBook()
    for item in ("first", "second", "third"):
        book.wait(item)
    assert book.waiting() == ["first", "second", "third"]
    book.settle(lambda item: item != "second")  # True: filled in
    assert book.waiting() == ["second"]
    book.waiting().clear()  # a copy: the book keeps its own list
    assert book.waiting() == ["second"]
