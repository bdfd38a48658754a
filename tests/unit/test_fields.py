"""Field checks (lifeboat.domain.fields): what each accepts, how it normalises, and its codes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifeboat.domain import fields as f


def code_of(spec: f.Spec, value: object) -> str:
    with pytest.raises(f.FieldError) as caught:
        spec.check(value)
    return caught.value.code


# --- text, booleans, integers, choices ------------------------------------------------------


def test_text_is_stripped():
    assert f.text().check("  Billing  ") == "Billing"


@pytest.mark.parametrize("value", ["", "   ", "x" * 201])
def test_text_outside_its_length_is_refused(value):
    assert code_of(f.text(200), value) == "bad_length"


@pytest.mark.parametrize("value", [None, 5, ["a"], {"a": 1}])
def test_text_must_be_a_string(value):
    assert code_of(f.text(), value) == "not_a_string"


@pytest.mark.parametrize("value", [0, 1, "true", None])
def test_a_boolean_must_be_true_or_false(value):
    assert code_of(f.boolean(), value) == "not_a_boolean"


@pytest.mark.parametrize("value", [True, 1.5, "3", float("inf"), float("nan")])
def test_an_integer_must_be_a_json_integer_not_a_boolean_fraction_or_text(value):
    assert code_of(f.integer(0, 10), value) == "not_an_integer"


def test_a_whole_float_is_the_json_integer_it_equals():
    # JSON has one kind of number and JSON Schema, which /openapi.json speaks, counts 1.0 as
    # an integer: refusing it would refuse what the published schema allows.
    assert f.integer(0, 10).check(1.0) == 1 and type(f.integer(0, 10).check(1.0)) is int
    assert f.reference().check(1099511627779.0) == 1099511627779


def test_shown_text_escapes_what_cannot_be_stored():
    assert f.shown("\ud800bcp", 20) == "\\ud800bcp"
    assert f.shown("a\x00b", 20) == "a\\x00b"
    assert f.shown({"to": 1}, 5) == "{'to'"


def test_an_integer_outside_its_range_is_refused_and_its_ends_are_accepted():
    spec = f.integer(1, 20)
    assert (spec.check(1), spec.check(20)) == (1, 20)
    assert code_of(spec, 0) == "out_of_range"
    assert code_of(spec, 21) == "out_of_range"


def test_a_choice_names_its_options_when_refused():
    with pytest.raises(f.FieldError) as caught:
        f.choice("none", "single", "multiple").check("all")
    assert caught.value.code == "bad_choice"
    assert "none, single, multiple" in caught.value.message


# --- time zones and hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone", ["UTC", "America/New_York", "Europe/Paris", "Asia/Kolkata", "America/Argentina/Buenos_Aires"]
)
def test_iana_time_zones_are_accepted(zone):
    assert f.time_zone().check(zone) == zone


@pytest.mark.parametrize("zone", ["america/new_york", "Mars/Olympus", "GMT+2", "+02:00", "", None, 0, "../etc/passwd"])
def test_anything_but_an_iana_time_zone_is_refused(zone):
    assert code_of(f.time_zone(), zone) == "bad_time_zone"


def test_weekly_hours_are_sorted_by_day_then_opening():
    slots = [
        {"day": "tue", "open": "09:00", "close": "12:00"},
        {"day": "mon", "open": "13:00", "close": "17:00"},
        {"day": "mon", "open": "08:00", "close": "12:00"},
    ]

    in_order = [("mon", "08:00"), ("mon", "13:00"), ("tue", "09:00")]
    assert [(s["day"], s["open"]) for s in f.weekly().check(slots)] == in_order


@pytest.mark.parametrize(
    ("open_", "close"), [("00:00", "00:01"), ("08:00", "17:30"), ("23:59", "24:00"), ("00:00", "24:00")]
)
def test_hh_mm_slots_from_midnight_to_midnight_are_accepted(open_, close):
    assert f.weekly().check([{"day": "sun", "open": open_, "close": close}])[0]["close"] == close


@pytest.mark.parametrize(
    ("open_", "close"),
    [
        ("8:00", "17:00"),
        ("08:00", "17:0"),
        ("24:00", "24:00"),
        ("08:00", "24:01"),
        ("25:00", "26:00"),
        ("08:60", "09:00"),
        ("0800", "1700"),
        ("08:00 ", "17:00"),
        ("17:00", "08:00"),
        ("12:00", "12:00"),
    ],
)
def test_slots_that_are_not_hh_mm_or_do_not_open_before_they_close_are_refused(open_, close):
    assert code_of(f.weekly(), [{"day": "mon", "open": open_, "close": close}]) == "bad_time"


@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59))
def test_a_slot_is_accepted_exactly_when_it_opens_before_it_closes(h1, m1, h2, m2):
    slot = {"day": "wed", "open": f"{h1:02d}:{m1:02d}", "close": f"{h2:02d}:{m2:02d}"}
    if (h1, m1) < (h2, m2):
        assert f.weekly().check([slot]) == [slot]
    else:
        assert code_of(f.weekly(), [slot]) == "bad_time"


@pytest.mark.parametrize(
    ("slot", "code"),
    [
        ({"day": "Monday", "open": "08:00", "close": "17:00"}, "bad_day"),
        ({"day": "mon", "open": "08:00"}, "bad_slot"),
        ({"day": "mon", "open": "08:00", "close": "17:00", "note": "x"}, "bad_slot"),
        ("mon 08:00-17:00", "bad_slot"),
    ],
)
def test_a_slot_has_exactly_a_known_day_an_open_and_a_close(slot, code):
    assert code_of(f.weekly(), [slot]) == code


def test_weekly_hours_must_be_a_list():
    assert code_of(f.weekly(), {"mon": "08:00-17:00"}) == "not_a_list"


def test_holidays_are_sorted_by_date():
    out = f.holidays().check([{"date": "2025-12-25", "name": "Christmas"}, {"date": "2025-01-01", "name": "New Year"}])

    assert [h["date"] for h in out] == ["2025-01-01", "2025-12-25"]


@pytest.mark.parametrize("day", ["2025-02-30", "25-12-2025", "tomorrow", 20251225])
def test_a_holiday_needs_a_real_iso_date(day):
    assert code_of(f.holidays(), [{"date": day, "name": "Holiday"}]) == "bad_date"


# --- references, permissions, agent skills ----------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, "12", 1.5, True])
def test_a_reference_is_a_positive_integer(value):
    assert code_of(f.reference(), value) == "bad_reference"


def test_a_reference_may_be_empty():
    assert f.reference().check(None) is None


def test_a_reference_list_is_sorted_and_must_not_repeat():
    assert f.references().check([30, 10, 20]) == [10, 20, 30]
    assert code_of(f.references(), [10, 10]) == "bad_reference"
    assert code_of(f.references(), [10, None]) == "bad_reference"
    assert code_of(f.references(), 10) == "not_a_list"


def test_permissions_are_a_sorted_set_of_known_names():
    spec = f.string_set(frozenset({"acd.view", "acd.edit"}))

    assert spec.check(["acd.view", "acd.edit", "acd.view"]) == ["acd.edit", "acd.view"]
    assert code_of(spec, ["acd.view", "root"]) == "unknown_permission"
    assert code_of(spec, "acd.view") == "not_a_list"


@pytest.mark.parametrize("proficiency", [1, 7, 20])
def test_a_proficiency_from_1_to_20_is_accepted(proficiency):
    skills = [{"skill_id": 5, "proficiency": proficiency}]
    assert f.agent_skills().check(skills) == skills


@pytest.mark.parametrize("proficiency", [0, 21, -3, 1.5, "5", None, True])
def test_a_proficiency_outside_1_to_20_is_refused(proficiency):
    assert code_of(f.agent_skills(), [{"skill_id": 5, "proficiency": proficiency}]) == "bad_proficiency"


@pytest.mark.parametrize(
    "items",
    [
        [{"skill_id": 5, "proficiency": 1}, {"skill_id": 5, "proficiency": 2}],
        [{"skill_id": 5}],
        [{"skill_id": "5", "proficiency": 1}],
        [{"skill_id": 5, "proficiency": 1, "priority": 2}],
    ],
)
def test_agent_skills_name_each_skill_once_with_exactly_a_proficiency(items):
    with pytest.raises(f.FieldError):
        f.agent_skills().check(items)


def test_agent_skills_are_sorted_by_skill():
    out = f.agent_skills().check([{"skill_id": 9, "proficiency": 1}, {"skill_id": 3, "proficiency": 2}])

    assert [s["skill_id"] for s in out] == [3, 9]


# --- patterns, base64, passwords, scripts -----------------------------------------------------


@pytest.mark.parametrize("value", ["+15551234567", "+442071234567", "+4915112345678", "+1234567"])
def test_e164_numbers_match(value):
    assert f.E164.match(value)


@pytest.mark.parametrize(
    "value",
    [
        "15551234567",
        "+05551234567",
        "+1 555 123 4567",
        "+1-555-123-4567",
        "+123456",
        "+1234567890123456",
        "tel:+15551234567",
    ],
)
def test_non_e164_numbers_do_not_match(value):
    assert not f.E164.match(value)


def test_a_username_pattern_lowers_case_and_refuses_spaces():
    spec = f.pattern(f.USERNAME, "bad_username", "no", lower=True)

    assert spec.check(" Ada.Lovelace@Example.com ") == "ada.lovelace@example.com"
    assert code_of(spec, "ada lovelace") == "bad_username"
    assert code_of(spec, ".ada") == "bad_username"


@pytest.mark.parametrize("path", ["/absolute", "", "bad\nname", "x" * 256])
def test_a_path_is_relative_printable_and_at_most_255_characters(path):
    assert code_of(f.pattern(f.PATH, "bad_path", "no"), path) == "bad_path"


@given(st.binary(max_size=200))
def test_base64_content_decodes_to_the_bytes_it_encodes(data):
    assert f.base64_bytes().check(base64.b64encode(data).decode()) == data


@pytest.mark.parametrize("value", ["not base64!", "QUJ", "QU JD", b"QUJD", None])
def test_anything_but_base64_text_is_refused(value):
    assert code_of(f.base64_bytes(), value) == "not_base64"


@pytest.mark.parametrize("value", ["short", "", None, 12345678, "x" * 257])
def test_a_password_is_8_to_256_characters(value):
    assert code_of(f.password(), value) == "weak_password"


def test_script_content_is_a_json_object_or_xml_text():
    assert f.script_content().check({"actions": {}}) == {"actions": {}}
    assert f.script_content().check("<ActionStruct/>") == "<ActionStruct/>"
    assert code_of(f.script_content(), ["actions"]) == "bad_script"


def test_a_settings_object_must_be_an_object():
    assert code_of(f.json_object(), ["a"]) == "not_an_object"


# --- text a database can store ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", {"key\x00": 1}, {"k": ["ok", {"deep": "\udfff"}]}])
def test_nul_characters_and_unpaired_surrogates_anywhere_in_a_value_are_refused(value):
    with pytest.raises(f.FieldError) as caught:
        f.storable(value)
    assert caught.value.code == "bad_text"


def test_text_with_a_nul_is_refused_by_the_text_check():
    assert code_of(f.text(), "Bill\x00ing") == "bad_text"


def test_a_deeply_nested_value_is_checked_without_recursion():
    value: object = "\x00"
    for _ in range(5000):
        value = [value]
    with pytest.raises(f.FieldError):
        f.storable(value)


def test_ordinary_unicode_including_astral_characters_is_storable():
    value = {"name": "Facturación 請求 🚀", "list": ["\t", "\n"]}

    assert f.storable(value) is value


@pytest.mark.parametrize("value", [2**53, 2**63, 10**30])
def test_a_reference_beyond_the_id_space_is_refused(value):
    assert code_of(f.reference(), value) == "bad_reference"
