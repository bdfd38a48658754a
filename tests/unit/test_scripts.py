"""Reading Studio scripts, finding their ID references (SPEC §3) and rewriting them (§4.7)."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifeboat.domain.scripts import (
    DEFAULT_MAX_SCRIPT_BYTES,
    Reference,
    find_references,
    parse_script,
    rewrite_script,
)
from lifeboat.errors import BadInput, Invalid, TooLarge


def studio(*actions: tuple[str, str, list[tuple[str, object]]]) -> dict:
    """A Studio JSON script with the given (action id, action name, [(property, value)])."""
    return {
        "header": {"name": "Inbound/Main", "mediaType": "voice", "version": 7},
        "actions": {aid: {"name": name, "x": 10, "y": 20} for aid, name, _ in actions},
        "properties": {
            aid: {str(i): {"name": prop, "value": value} for i, (prop, value) in enumerate(props)}
            for aid, _, props in actions
        },
        "branches": {"1": {"Default": "2"}},
    }


def one(action: str, prop: str, value: object) -> dict:
    return studio(("1", action, [(prop, value)]))


def references(content: dict | str, known_ids: dict[int, str] | None = None) -> list[Reference]:
    return find_references(parse_script(content), known_ids=known_ids)


def the_reference(content: dict | str) -> Reference:
    (ref,) = references(content)
    return ref


def no_translation(target: str, primary_id: int) -> int | None:
    return None


def plus_1000(target: str, primary_id: int) -> int | None:
    return primary_id + 1000


def value_of(content: dict, action_id: str = "1", index: str = "0") -> object:
    return content["properties"][action_id][index]["value"]


# --- which properties are references -------------------------------------------------------

REFERENCE_TABLE = [
    ("REQAGENT", "Skill", "skills"),
    ("REQAGENT", "TargetAgent", "users"),
    ("REQAGENT (digital)", "Skill", "skills"),
    ("HOURS", "Profile", "hours-of-operation"),
    ("SPAWN", "Skill", "skills"),
    ("SETDISPOSITION", "Skill", "skills"),
    ("SETDISPOSITION", "Disposition", "dispositions"),
    ("SUPPRESSCALL", "Disposition", "dispositions"),
]


@pytest.mark.parametrize(("action", "prop", "target"), REFERENCE_TABLE, ids=lambda v: str(v))
def test_numeric_value_of_each_id_property_is_an_id_reference_to_its_type(action, prop, target):
    ref = the_reference(one(action, prop, "12345"))
    assert (ref.action_id, ref.action, ref.property) == ("1", action, prop)
    assert (ref.value, ref.position, ref.kind, ref.target) == ("12345", None, "id", target)


def test_numeric_skill_in_reqagent_is_an_id_reference():
    assert the_reference(one("REQAGENT", "Skill", "4101")).kind == "id"


@pytest.mark.parametrize("action", ["reqagent", "Reqagent (Digital)", "REQAGENT (chat)", " REQAGENT "])
def test_reqagent_is_recognised_whatever_its_case_or_digital_variant(action):
    ref = the_reference(one(action, "Skill", "77"))
    assert (ref.kind, ref.target, ref.action) == ("id", "skills", action)


def test_property_names_are_matched_case_insensitively():
    assert the_reference(one("HOURS", "profile", "9")).target == "hours-of-operation"


@pytest.mark.parametrize("action", ["SPAWN", "RUNSCRIPT", "RUNSUB"])
def test_script_name_is_a_path_reference_to_scripts(action):
    ref = the_reference(one(action, "ScriptName", "Inbound\\Sales"))
    assert (ref.kind, ref.target, ref.value) == ("path", "scripts", "Inbound\\Sales")


def test_a_numeric_script_name_is_still_a_path_not_an_id():
    assert the_reference(one("RUNSUB", "ScriptName", "2024")).kind == "path"


def test_script_name_held_in_a_variable_is_a_variable_reference():
    assert the_reference(one("RUNSCRIPT", "ScriptName", "{NextScript}")).kind == "variable"


@pytest.mark.parametrize("action", ["PLAY", "MUSIC"])
@pytest.mark.parametrize("prop", ["MusicFile", "Sequence", "Prompt", "Prompts", "GreetingFile"])
def test_file_properties_of_play_and_music_are_path_references_to_files(action, prop):
    ref = the_reference(one(action, prop, "prompts/welcome.wav"))
    assert (ref.kind, ref.target, ref.value) == ("path", "files", "prompts/welcome.wav")


def test_a_sequence_naming_several_files_gives_one_reference_per_file_and_skips_spoken_text():
    refs = references(one("PLAY", "Sequence", '"prompts/a.wav" %"Your number is" "prompts/b.wav"'))
    assert [(r.value, r.kind, r.target) for r in refs] == [
        ("prompts/a.wav", "path", "files"),
        ("prompts/b.wav", "path", "files"),
    ]


def test_a_sequence_given_as_a_list_gives_one_reference_per_element():
    refs = references(one("PLAY", "Sequence", ["prompts/a.wav", "{Lang}/b.wav"]))
    assert [(r.value, r.position, r.kind) for r in refs] == [
        ("prompts/a.wav", 0, "path"),
        ("{Lang}/b.wav", 1, "variable"),
    ]


@pytest.mark.parametrize(
    ("action", "prop"),
    [("PLAY", "Volume"), ("REQAGENT", "Priority"), ("BEGIN", "Skill"), ("MENU", "Data"), ("SNIPPET", "Comment")],
)
def test_properties_outside_the_table_are_not_references(action, prop):
    assert references(one(action, prop, "12345")) == []
    assert references(one(action, prop, "12345"), known_ids={999: "skills"}) == []


def test_checkcallsup_has_no_reference_only_its_data_value():
    assert references(one("CHECKCALLSUP", "Disposition", "12345")) == []
    assert references(one("CHECKCALLSUP", "DataValue", "{dataValue}")) == []


# --- value kinds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("12345", "id"),
        ("  12345 ", "id"),
        ("", "empty"),
        ("   ", "empty"),
        ("Default", "default"),
        ("DEFAULT", "default"),
        ("{SkillNo}", "variable"),
        ("Sales_{Lang}", "variable"),
        ("Sales Queue", "name"),
        ("12a", "name"),
        ("-5", "name"),
        ("\u0663\u0664", "name"),  # Arabic-Indic digits are not an id
    ],
)
def test_a_value_is_classified_by_what_it_holds(value, kind):
    assert the_reference(one("REQAGENT", "Skill", value)).kind == kind


def test_each_element_of_a_list_value_is_its_own_reference_with_its_position():
    refs = references(one("REQAGENT", "Skill", ["11", "{Fallback}", "Default", "Sales"]))
    assert [(r.value, r.position, r.kind) for r in refs] == [
        ("11", 0, "id"),
        ("{Fallback}", 1, "variable"),
        ("Default", 2, "default"),
        ("Sales", 3, "name"),
    ]


def test_references_come_in_action_order_then_property_index_order():
    content = studio(
        ("9", "HOURS", [("Profile", "1")]),
        ("3", "REQAGENT", [("Skill", "2"), ("TargetAgent", "3")]),
    )
    # Index "10" comes after "2", not before it as text would sort.
    content["properties"]["3"] = {
        "10": {"name": "TargetAgent", "value": "3"},
        "2": {"name": "Skill", "value": "2"},
    }
    assert [(r.action_id, r.property) for r in references(content)] == [
        ("9", "Profile"),
        ("3", "Skill"),
        ("3", "TargetAgent"),
    ]


# --- free text -----------------------------------------------------------------------------

KNOWN = {4101: "skills", 77: "users", 5: "dispositions"}


@pytest.mark.parametrize(("action", "prop"), [("SNIPPET", "Data"), ("SNIPPET", "Value"), ("ASSIGN", "Expression")])
def test_known_ids_in_free_text_are_possible_ids_of_their_type(action, prop):
    refs = references(one(action, prop, "ASSIGN skill = 4101\nIF agent == 77 { x = 999 }"), KNOWN)
    assert [(r.value, r.kind, r.target) for r in refs] == [
        ("4101", "possible_id", "skills"),
        ("77", "possible_id", "users"),
    ]


def test_free_text_has_no_possible_ids_without_known_ids():
    assert references(one("SNIPPET", "Data", "skill = 4101")) == []


@pytest.mark.parametrize(
    "text",
    ["41010", "14101", "x4101", "4101x", "_4101", "4101.5", "1.4101", "04101", "\u06604101"],
)
def test_digits_inside_a_longer_number_or_word_are_not_possible_ids(text):
    assert references(one("SNIPPET", "Data", text), KNOWN) == []


@pytest.mark.parametrize("text", ["4101", "(4101)", "x=4101;", "'4101'", "skill 4101.", "[5,77]"])
def test_whole_integer_literals_are_possible_ids(text):
    assert references(one("SNIPPET", "Data", text), KNOWN) != []


def test_a_repeated_literal_is_listed_once_per_property():
    refs = references(one("SNIPPET", "Data", "a = 77\nb = 77"), KNOWN)
    assert [r.value for r in refs] == ["77"]


# --- rewriting -----------------------------------------------------------------------------


def reqagent_script() -> dict:
    return studio(
        ("1", "BEGIN", []),
        ("2", "REQAGENT", [("Skill", "4101"), ("TargetAgent", "{Agent}"), ("Priority", "4101")]),
        ("3", "PLAY", [("Sequence", '"prompts/hold.wav"')]),
    )


def test_remap_writes_the_bcp_id_and_leaves_everything_else_as_it_was():
    original = reqagent_script()
    untouched = copy.deepcopy(original)
    content, rewrites = rewrite_script(parse_script(original), plus_1000)
    expected = copy.deepcopy(original)
    expected["properties"]["2"]["0"]["value"] = "5101"
    assert content == expected
    assert original == untouched
    assert [(r.reference.value, r.new_value, r.status, r.written) for r in rewrites] == [
        ("4101", "5101", "remapped", True),
        ("{Agent}", "{Agent}", "unchanged", False),
        ("prompts/hold.wav", "prompts/hold.wav", "unchanged", False),
    ]


def test_translate_is_asked_with_the_target_type_and_the_primary_id():
    asked = []
    rewrite_script(parse_script(one("SETDISPOSITION", "Disposition", "31")), lambda t, i: asked.append((t, i)))
    assert asked == [("dispositions", 31)]


def test_keep_writes_nothing_but_says_what_would_be_remapped():
    original = reqagent_script()
    content, rewrites = rewrite_script(parse_script(original), plus_1000, remap_structured=False)
    assert content == original
    assert (rewrites[0].status, rewrites[0].new_value, rewrites[0].written) == ("remapped", "5101", False)


def test_an_id_without_a_bcp_counterpart_is_unresolved_and_left_as_it_is():
    original = reqagent_script()
    content, rewrites = rewrite_script(parse_script(original), no_translation)
    assert content == original
    assert (rewrites[0].status, rewrites[0].new_value, rewrites[0].written) == ("unresolved", None, False)


@pytest.mark.parametrize("value", ["Default", "", "{SkillNo}", "Sales"])
def test_names_defaults_variables_and_empty_values_are_unchanged(value):
    content, (rewrite,) = rewrite_script(parse_script(one("REQAGENT", "Skill", value)), plus_1000)
    assert value_of(content) == value
    assert (rewrite.status, rewrite.new_value, rewrite.written) == ("unchanged", value, False)


def test_only_the_id_elements_of_a_list_are_remapped():
    content, _ = rewrite_script(parse_script(one("REQAGENT", "Skill", ["11", "{X}", "12"])), plus_1000)
    assert value_of(content) == ["1011", "{X}", "1012"]


def test_spaces_around_a_remapped_id_are_kept():
    content, _ = rewrite_script(parse_script(one("HOURS", "Profile", " 9 ")), plus_1000)
    assert value_of(content) == " 1009 "


def test_an_id_whose_bcp_id_is_the_same_number_is_kept_as_written():
    content, (rewrite,) = rewrite_script(parse_script(one("REQAGENT", "Skill", "007")), lambda t, i: i)
    assert value_of(content) == "007"
    assert (rewrite.status, rewrite.new_value) == ("remapped", "7")


def test_free_text_ids_are_reported_but_not_written_by_default():
    original = one("SNIPPET", "Data", "skill = 4101")
    content, (rewrite,) = rewrite_script(parse_script(original), plus_1000, known_ids=KNOWN)
    assert content == original
    assert (rewrite.status, rewrite.new_value, rewrite.written) == ("possible_id", "5101", False)


def test_free_text_ids_are_rewritten_with_remap_free_text_only_as_whole_literals():
    text = "a = 4101; b = 41010; c = x4101; d = 4101.5; e = 4101"
    content, rewrites = rewrite_script(
        parse_script(one("SNIPPET", "Data", text)), plus_1000, remap_free_text=True, known_ids=KNOWN
    )
    assert value_of(content) == "a = 5101; b = 41010; c = x4101; d = 4101.5; e = 5101"
    assert [(r.status, r.written) for r in rewrites] == [("possible_id", True)]


def test_swapped_free_text_ids_do_not_overwrite_each_other():
    swap = {77: 5, 5: 77}
    content, _ = rewrite_script(
        parse_script(one("ASSIGN", "Value", "x = 77 + 5")),
        lambda t, i: swap[i],
        remap_free_text=True,
        known_ids=KNOWN,
    )
    assert value_of(content) == "x = 5 + 77"


def test_a_free_text_id_without_counterpart_is_reported_and_left_alone():
    original = one("SNIPPET", "Data", "x = 77")
    content, (rewrite,) = rewrite_script(parse_script(original), no_translation, remap_free_text=True, known_ids=KNOWN)
    assert content == original
    assert (rewrite.status, rewrite.new_value, rewrite.written) == ("possible_id", None, False)


def test_rewriting_json_text_returns_a_json_object():
    content, _ = rewrite_script(parse_script(json.dumps(one("HOURS", "Profile", "9"))), plus_1000)
    assert value_of(content) == "1009"


# --- round trips ---------------------------------------------------------------------------

ids = st.integers(min_value=1, max_value=2**53 - 1)
id_texts = ids.map(str)
other_values = st.sampled_from(["", "Default", "{SkillNo}", "Sales", " x ", "prompts/a.wav", 0, None, True, 1.5, -3])
values = st.one_of(id_texts, ids, other_values)  # ids as text and as JSON integers
property_values = st.one_of(values, st.lists(values, max_size=3))
free_text = st.lists(st.one_of(id_texts, st.sampled_from([" ", "+", "x", ".", "1.5", "\n", "{A}"])), max_size=8).map(
    "".join
)
table_properties = st.sampled_from(
    [
        ("REQAGENT", "Skill"),
        ("REQAGENT", "TargetAgent"),
        ("HOURS", "Profile"),
        ("SPAWN", "Skill"),
        ("SPAWN", "ScriptName"),
        ("SETDISPOSITION", "Disposition"),
        ("SUPPRESSCALL", "Disposition"),
        ("RUNSUB", "ScriptName"),
        ("PLAY", "Sequence"),
        ("MUSIC", "MusicFile"),
        ("BEGIN", "Note"),
    ]
)


@st.composite
def scripts(draw) -> dict:
    actions = []
    for number in range(draw(st.integers(min_value=0, max_value=5))):
        if draw(st.booleans()):
            name, props = draw(st.sampled_from(["SNIPPET", "ASSIGN"])), [("Data", draw(free_text))]
        else:
            (name, prop), value = draw(table_properties), draw(property_values)
            props = [(prop, value), ("Label", draw(values))]
        actions.append((str(number * 7 + 1), name, props))
    return studio(*actions)


def literal_ids(content: dict) -> set[int]:
    """Every positive integer written anywhere in the script: the ids a tenant might have."""
    return {int(digits) for digits in re.findall(r"[0-9]+", json.dumps(content)) if int(digits) > 0}


@settings(max_examples=200, deadline=None)
@given(scripts())
def test_rewriting_with_identity_gives_an_equal_document(content):
    known = dict.fromkeys(literal_ids(content), "skills")
    new, _ = rewrite_script(parse_script(content), lambda t, i: i, remap_free_text=True, known_ids=known)
    assert new == content


@settings(max_examples=200, deadline=None)
@given(scripts(), st.randoms(use_true_random=False))
def test_rewriting_with_a_mapping_then_its_inverse_gives_the_original(content, random):
    primary = sorted(literal_ids(content))
    shuffled = primary[:]
    random.shuffle(shuffled)
    forward, backward = dict(zip(primary, shuffled)), dict(zip(shuffled, primary))
    known = dict.fromkeys(primary, "skills")
    there, _ = rewrite_script(parse_script(content), lambda t, i: forward.get(i), remap_free_text=True, known_ids=known)
    back, _ = rewrite_script(parse_script(there), lambda t, i: backward.get(i), remap_free_text=True, known_ids=known)
    assert back == content


# --- Desktop Studio XML --------------------------------------------------------------------

ATTRIBUTE_SHAPE = """<?xml version="1.0" encoding="utf-8"?>
<Script>
  <!-- exported by Desktop Studio -->
  <ActionStruct>
    <Action ID="2" Name="REQAGENT"/>
    <Parameters>
      <Parameter Name="Skill">4101</Parameter>
      <Parameter Name="TargetAgent"><Value>77</Value><Value>{Agent}</Value></Parameter>
    </Parameters>
  </ActionStruct>
  <ActionStruct>
    <Action ID="3" Name="PLAY"/>
    <Parameters><Parameter Name="Sequence">"prompts/a.wav" "prompts/b.wav"</Parameter></Parameters>
  </ActionStruct>
</Script>
"""

ELEMENT_SHAPE = """<Script xmlns="urn:studio">
  <ActionStruct>
    <ID>2</ID>
    <Action>REQAGENT</Action>
    <Parameters>
      <Parameter Name="Skill">4101</Parameter>
      <Parameter Name="TargetAgent"><Value>77</Value><Value>{Agent}</Value></Parameter>
    </Parameters>
  </ActionStruct>
  <ActionStruct>
    <ID>3</ID>
    <Action>PLAY</Action>
    <Parameters><Parameter Name="Sequence">"prompts/a.wav" "prompts/b.wav"</Parameter></Parameters>
  </ActionStruct>
</Script>"""


@pytest.mark.parametrize("text", [ATTRIBUTE_SHAPE, ELEMENT_SHAPE], ids=["attributes", "elements"])
def test_both_xml_shapes_are_read_into_the_same_actions_and_parameters(text):
    doc = parse_script(text)
    assert (doc.format, doc.raw) == ("xml", text)
    assert doc.actions == {"2": "REQAGENT", "3": "PLAY"}
    assert doc.properties == {
        "2": [("Skill", "4101"), ("TargetAgent", ["77", "{Agent}"])],
        "3": [("Sequence", '"prompts/a.wav" "prompts/b.wav"')],
    }
    assert [(r.value, r.kind, r.target, r.position) for r in find_references(doc)] == [
        ("4101", "id", "skills", None),
        ("77", "id", "users", 0),
        ("{Agent}", "variable", "users", 1),
        ("prompts/a.wav", "path", "files", None),
        ("prompts/b.wav", "path", "files", None),
    ]


@pytest.mark.parametrize("text", [ATTRIBUTE_SHAPE, ELEMENT_SHAPE], ids=["attributes", "elements"])
def test_rewriting_xml_edits_the_parameters_and_keeps_the_rest(text):
    content, rewrites = rewrite_script(parse_script(text), plus_1000)
    assert isinstance(content, str)
    assert parse_script(content).properties["2"] == [("Skill", "5101"), ("TargetAgent", ["1077", "{Agent}"])]
    assert ET.canonicalize(content.replace("5101", "4101").replace("1077", "77"), strip_text=True) == (
        ET.canonicalize(text, strip_text=True)
    )
    assert content.startswith(text[: text.index("<Script")])
    assert "<Script" in content and "ns0" not in content
    assert [r.status for r in rewrites] == ["remapped", "remapped", "unchanged", "unchanged", "unchanged"]


@pytest.mark.parametrize("text", [ATTRIBUTE_SHAPE, ELEMENT_SHAPE], ids=["attributes", "elements"])
def test_xml_comes_back_exactly_as_it_was_when_nothing_is_written(text):
    assert rewrite_script(parse_script(text), plus_1000, remap_structured=False)[0] == text
    assert rewrite_script(parse_script(text), lambda t, i: i)[0] == text


def test_xml_remapped_then_back_is_the_same_document():
    there, _ = rewrite_script(parse_script(ATTRIBUTE_SHAPE), plus_1000)
    back, _ = rewrite_script(parse_script(there), lambda t, i: i - 1000)
    assert ET.canonicalize(back) == ET.canonicalize(ATTRIBUTE_SHAPE)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Script><ActionStruct><Action ID="1" Name="SNIPPET"/>
<Parameters><Parameter Name="Data">&lol3;</Parameter></Parameters></ActionStruct></Script>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE Script [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Script><ActionStruct><Action ID="1" Name="SNIPPET"/>
<Parameters><Parameter Name="Data">&secret;</Parameter></Parameters></ActionStruct></Script>"""

DOCTYPE_ALONE = """<!DOCTYPE Script>
<Script><ActionStruct><Action ID="1" Name="HOURS"/></ActionStruct></Script>"""


@pytest.mark.parametrize(
    "text", [BILLION_LAUGHS, EXTERNAL_ENTITY, DOCTYPE_ALONE], ids=["billion-laughs", "external-entity", "doctype"]
)
def test_xml_with_a_doctype_or_entities_is_refused_as_hostile(text):
    with pytest.raises(BadInput) as caught:
        parse_script(text)
    assert caught.value.code == "hostile_xml"
    assert "DOCTYPE" in caught.value.message
    assert "root:" not in caught.value.message  # nothing of /etc/passwd was read


def test_malformed_xml_is_refused_with_its_line():
    with pytest.raises(BadInput) as caught:
        parse_script("<Script>\n<ActionStruct><Action ID='1' Name='X'/>\n</Script>")
    assert caught.value.code == "malformed_script"
    assert caught.value.details["line"] == 3
    assert "line 3" in caught.value.message


def test_an_undeclared_entity_is_malformed_xml():
    with pytest.raises(BadInput) as caught:
        parse_script("<Script>&secret;</Script>")
    assert caught.value.code == "malformed_script"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("<Script><Other/></Script>", "no <ActionStruct>"),
        ("<Script><ActionStruct><Parameters/></ActionStruct></Script>", "has no <Action>"),
        ("<Script><ActionStruct><Action Name='HOURS'/></ActionStruct></Script>", "has no action ID"),
        ("<Script><ActionStruct><Action ID='1'/></ActionStruct></Script>", "has no action name"),
        (
            "<Script><ActionStruct><Action ID='1' Name='A'/></ActionStruct>"
            "<ActionStruct><Action ID='1' Name='B'/></ActionStruct></Script>",
            "ActionStruct #2: action ID '1' is used twice",
        ),
        (
            "<Script><ActionStruct><Action ID='1' Name='A'/><Parameters><Parameter>5</Parameter>"
            "</Parameters></ActionStruct></Script>",
            "ActionStruct #1, parameter #1: has no Name",
        ),
    ],
)
def test_xml_that_is_not_a_studio_export_is_invalid_and_says_where(text, where):
    with pytest.raises(Invalid) as caught:
        parse_script(text)
    assert caught.value.code == "invalid_script"
    assert where in caught.value.message


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("<a>" * 150 + "</a>" * 150, 64),  # the default limit
        ("<Script>" + "<a>" * 20 + "</a>" * 20 + "</Script>", 10),
    ],
)
def test_xml_nested_deeper_than_the_limit_is_too_deep(text, limit):
    with pytest.raises(Invalid) as caught:
        parse_script(text, max_depth=limit)
    assert caught.value.code == "too_deep"
    assert f"nested more than {limit} deep" in caught.value.message


def test_json_nested_deeper_than_the_limit_is_too_deep_whether_object_or_text():
    deep: object = "x"
    for _ in range(70):
        deep = {"a": deep}
    script = {"actions": {"1": {"name": "BEGIN"}}, "properties": {}, "notes": deep}
    for content in (script, json.dumps(script)):
        with pytest.raises(Invalid) as caught:
            parse_script(content)
        assert (caught.value.code, caught.value.details["limit"]) == ("too_deep", 64)
    assert parse_script(script, max_depth=80).raw == script


# --- malformed and oversized scripts -------------------------------------------------------


def test_bad_json_text_is_malformed_and_says_where():
    with pytest.raises(BadInput) as caught:
        parse_script('{"actions": {\n"1": {"name": "HOURS",}}}')
    assert caught.value.code == "malformed_script"
    assert (caught.value.details["line"], "line 2") == (2, "line 2")
    assert "line 2" in caught.value.message


@pytest.mark.parametrize("text", ["", "   ", '{"a": NaN}', "{'a': 1}"])
def test_text_that_is_neither_json_nor_xml_is_malformed(text):
    with pytest.raises(BadInput) as caught:
        parse_script(text)
    assert caught.value.code == "malformed_script"


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("[1, 2]", "script"),
        ({"actions": []}, "actions"),
        ({"actions": {"7": "REQAGENT"}}, "actions.7"),
        ({"actions": {"7": {"label": "x"}}}, "actions.7"),
        ({"actions": {}, "properties": []}, "properties"),
        ({"actions": {"7": {"name": "HOURS"}}, "properties": {"7": []}}, "properties.7"),
        ({"actions": {"7": {"name": "HOURS"}}, "properties": {"8": {}}}, "properties.8"),
        (
            {"actions": {"7": {"name": "HOURS"}}, "properties": {"7": {"first": {"name": "P", "value": ""}}}},
            "properties.7.first",
        ),
        ({"actions": {"7": {"name": "HOURS"}}, "properties": {"7": {"0": {"value": "1"}}}}, "properties.7.0"),
        (
            {"actions": {"7": {"name": "HOURS"}}, "properties": {"7": {"0": {"name": "Profile"}}}},
            "properties.7.0.value",
        ),
        ({"header": {1, 2}}, "script"),
    ],
)
def test_a_script_of_the_wrong_shape_is_invalid_and_says_where(content, where):
    with pytest.raises(Invalid) as caught:
        parse_script(content)
    assert caught.value.code == "invalid_script"
    assert caught.value.details["errors"][0]["field"] == where
    assert f"{where}:" in caught.value.message


def test_a_script_without_actions_has_no_references():
    assert references({"header": {}}) == []


def padded(size: int) -> dict:
    """A script whose compact JSON is exactly ``size`` bytes."""
    content = {"header": {"note": ""}, "actions": {}}
    overhead = len(json.dumps(content, separators=(",", ":")))
    content["header"]["note"] = "x" * (size - overhead)
    return content


def test_a_script_at_the_size_limit_is_accepted():
    assert parse_script(padded(DEFAULT_MAX_SCRIPT_BYTES)).actions == {}


def test_a_script_over_the_size_limit_is_too_large_with_limit_and_size():
    with pytest.raises(TooLarge) as caught:
        parse_script(padded(DEFAULT_MAX_SCRIPT_BYTES + 1))
    assert caught.value.code == "script_too_large"
    assert caught.value.details == {"limit": DEFAULT_MAX_SCRIPT_BYTES, "size": DEFAULT_MAX_SCRIPT_BYTES + 1}


def test_size_counts_compact_utf8_bytes_not_the_whitespace_of_json_text():
    content = {"header": {"note": "é" * 10}}  # 20 bytes of UTF-8 in the note
    compact = len(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode())
    assert parse_script(json.dumps(content, indent=8), max_bytes=compact).format == "json"
    with pytest.raises(TooLarge) as caught:
        parse_script(content, max_bytes=compact - 1)
    assert caught.value.details["size"] == compact


def test_oversized_xml_is_too_large():
    with pytest.raises(TooLarge) as caught:
        parse_script(ATTRIBUTE_SHAPE, max_bytes=100)
    assert caught.value.details == {"limit": 100, "size": len(ATTRIBUTE_SHAPE.encode())}
