"""Depth and size of free-form JSON, measured without recursion (domain.json_limits), and
the entity validation that refuses values over the limits first."""

from __future__ import annotations

import pytest

from lifeboat.domain.entities import ENTITY_TYPES, free_form_problems, validate
from lifeboat.domain.json_limits import READABLE_DEPTH, JsonLimits, depth_of, readable
from lifeboat.errors import Invalid, TooLarge
from lifeboat.sync.model import Pending
from lifeboat.sync.translate import has_pending


def nested(depth: int, leaf: object = "x") -> object:
    value = leaf
    for i in range(depth):
        value = {"k": value} if i % 2 else [value]
    return value


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        ("text", 0),
        (1, 0),
        ({}, 1),
        ([], 1),
        ({"a": 1, "b": [1, {"c": 2}]}, 3),
        (nested(10), 10),
    ],
)
def test_depth_counts_levels_of_objects_and_arrays(value, depth):
    assert depth_of(value) == depth


def test_depth_of_a_value_far_deeper_than_python_recursion_is_measured_and_can_stop_early():
    deep = nested(100_000)

    assert depth_of(deep) == 100_000
    assert depth_of(deep, stop_above=64) == 65


def test_settings_over_the_depth_limit_are_refused_as_too_deep_before_other_checks():
    kind = ENTITY_TYPES["business-unit"]

    with pytest.raises(Invalid) as caught:
        validate(kind, {"name": "x", "settings": {"a": nested(64)}, "unknown": 1})

    assert caught.value.code == "too_deep"
    assert caught.value.details["field"] == "settings"
    assert validate(kind, {"name": "x", "settings": {"a": nested(63)}})["settings"] == {"a": nested(63)}


def test_settings_over_the_size_limit_are_refused_as_too_large():
    with pytest.raises(TooLarge) as caught:
        validate(
            ENTITY_TYPES["business-unit"],
            {"name": "x", "settings": {"s": "y" * 2000}},
            limits=JsonLimits(max_bytes=1024),
        )

    assert caught.value.code == "value_too_large"
    assert caught.value.details["limit"] == 1024 and caught.value.details["size"] > 2000


def test_script_content_is_held_to_the_depth_limit_and_its_own_size_limit():
    content = {"actions": {}, "notes": nested(70)}
    kind = ENTITY_TYPES["scripts"]

    with pytest.raises(Invalid):
        validate(kind, {"path": "Main", "content": content})
    big = {"actions": {}, "notes": "z" * 5000}
    assert free_form_problems(kind, {"content": big}, JsonLimits(max_bytes=1024), document_bytes=10_000) == []
    assert [p["code"] for p in free_form_problems(kind, {"content": big}, JsonLimits(), document_bytes=1024)] == [
        "value_too_large"
    ]


def test_readable_withholds_only_values_too_deep_to_answer_with():
    fields = {"name": "x", "settings": nested(READABLE_DEPTH + 1), "ok": nested(READABLE_DEPTH)}

    shown, withheld = readable(fields)

    assert shown == {"name": "x", "settings": None, "ok": fields["ok"]}
    assert [(w["field"], w["code"]) for w in withheld] == [("settings", "too_deep")]
    assert readable({"a": 1}) == ({"a": 1}, [])


def test_pending_references_are_found_in_values_deeper_than_python_recursion():
    assert has_pending(nested(50_000)) is False
    assert has_pending(nested(50_000, leaf=Pending("skills", 1))) is True
