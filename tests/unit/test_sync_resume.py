"""A resumed run counts each entity once, as what the run first did to it."""

from __future__ import annotations

from collections import Counter

from lifeboat.sync.model import Change, Plan, Refresh, Row
from lifeboat.sync.resume import add_earlier, earlier_writes, revisit


def audit(action: str, type_name: str, primary_id: int, bcp_id: int, drift: list[str] | None = None) -> dict:
    return {
        "action": f"{type_name}.sync_{action}",
        "entity_type": type_name,
        "entity_id": bcp_id,
        "details": {"primary_id": primary_id, "fields": [], "drift": drift or []},
    }


def zero(**counts: int) -> dict[str, int]:
    actions = ("created", "updated", "adopted", "deactivated", "deleted", "unchanged", "failed")
    return {**dict.fromkeys(actions, 0), **counts}


def test_the_first_write_of_each_entity_is_what_counts():
    earlier = earlier_writes(
        [
            audit("create", "skills", 1, 101),
            audit("update", "skills", 1, 101),
            audit("delete", "teams", 7, 107),
            {"action": "skills.create", "entity_type": "skills", "entity_id": 5, "details": None},
        ]
    )

    assert {k: w.action for k, w in earlier.items()} == {("skills", 1): "create", ("teams", 7): "delete"}
    assert revisit(earlier) == frozenset({1})


def test_what_an_earlier_attempt_wrote_is_counted_as_written_not_unchanged():
    earlier = earlier_writes(
        [
            audit("create", "skills", 1, 101),
            audit("create", "skills", 2, 102),
            audit("adopt", "business-unit", 3, 103, ["name"]),
            audit("delete", "teams", 7, 107),
        ]
    )
    plan = Plan(
        changes=[Change("update", "skills", "Two", 2, 102), Change("create", "skills", "Four", 4, None)],
        refreshes=[Refresh("skills", 1, 1, bcp_id=101), Refresh("business-unit", 3, 1, bcp_id=103)],
        unchanged=Counter({"skills": 6, "business-unit": 1}),
    )
    report = {"counts": plan.counts(), "drift": []}

    add_earlier(report, plan, [], earlier, {103: Row(103, "business-unit", "Acme", 2)})

    assert report["counts"] == {
        "skills": zero(created=3, unchanged=5),
        "business-unit": zero(adopted=1),
        "teams": zero(deleted=1),
    }
    assert report["drift"] == [
        {"type": "business-unit", "name": "Acme", "primary_id": 3, "bcp_id": 103, "fields": ["name"]}
    ]


def test_a_change_that_failed_at_write_time_stays_failed():
    earlier = earlier_writes([audit("create", "skills", 1, 101)])
    plan = Plan(changes=[Change("update", "skills", "One", 1, 101)])
    report = {"counts": {"skills": zero(failed=1)}, "drift": []}  # the update, refused when written

    add_earlier(report, plan, [{"type": "skills", "primary_id": 1, "action": "update"}], earlier, {})

    assert report["counts"] == {"skills": zero(created=1, failed=1)}
