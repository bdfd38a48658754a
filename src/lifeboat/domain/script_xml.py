"""Desktop Studio XML exports: read the actions and parameters, write parameter values back.

One or more ``<ActionStruct>`` blocks, anywhere in the document, in document order. Two
spellings of a block are accepted:

    attributes                                   elements
    <ActionStruct>                               <ActionStruct>
      <Action ID="3" Name="REQAGENT"/>             <ActionID>3</ActionID>  (or <ID>3</ID>)
      <Parameters>                                 <Action>REQAGENT</Action>
        <Parameter Name="Skill">12345</Parameter>  <Parameters>
      </Parameters>                                  <Parameter Name="Skill">12345</Parameter>
    </ActionStruct>                                </Parameters>
                                                   <DefaultNextAction>
                                                     <Text /><ActionID>4</ActionID>
                                                   </DefaultNextAction>
                                                 </ActionStruct>

The action id is ``Action/@ID``, else the text of the block's own ``<ActionID>`` child
(what real exports write), else of its ``<ID>`` child, else ``ActionStruct/@ID``. An
``<ActionID>`` further down, inside ``<DefaultNextAction>`` or a ``<BranchStruct>``, names
the next action (a branch target, -1 for none): it is neither the block's id nor a
reference. The action name is ``Action/@Name``, else the text of ``<Action>``.
Parameters are the ``<Parameter Name="...">`` children of any ``<Parameters>`` inside the
block, in order. A parameter whose value is a list holds one ``<Value>`` child per element:
``<Parameter Name="Sequence"><Value>a.wav</Value><Value>b.wav</Value></Parameter>``.
Element names are matched without their namespace.

Parsing goes through defusedxml with DTDs, entities and external references forbidden, so
any DOCTYPE (billion laughs, ``file:///etc/passwd`` entities, or a DOCTYPE alone) is refused
as ``hostile_xml``. Writing edits parameter text in the parsed tree and serialises it again:
the XML declaration and comments inside the root are kept; attribute quoting, empty-element
spelling and character references may be normalised.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from defusedxml.common import DefusedXmlException, EntitiesForbidden
from defusedxml.ElementTree import DefusedXMLParser

from lifeboat.errors import BadInput, Invalid

PropertyValue = str | list[str]

# Deeper trees than this are not Studio exports, and would overflow the serialiser's recursion.
MAX_DEPTH = 100

_PROLOG = re.compile(r"\ufeff?\s*(?:<\?xml\b[^>]*\?>\s*)?")


@dataclass(frozen=True)
class XmlAction:
    action_id: str
    name: str
    parameters: list[tuple[str, PropertyValue]]


@dataclass(frozen=True)
class _Block:
    action_id: str
    name: str
    parameters: list[ET.Element]


def read_actions(text: str, *, max_depth: int = MAX_DEPTH) -> list[XmlAction]:
    """The actions of an export, in document order, with their ordered parameters. Elements
    nested more than ``max_depth`` (at most ``MAX_DEPTH``) deep are refused as ``too_deep``."""
    return [
        XmlAction(block.action_id, block.name, [_parameter(p) for p in block.parameters])
        for block in _blocks(_parse(text, min(max_depth, MAX_DEPTH)))
    ]


def write_values(text: str, changes: Mapping[tuple[str, int], PropertyValue]) -> str:
    """``text`` with the value of parameter number ``n`` of action ``id`` set, for each
    ``(id, n) -> value`` of ``changes``. A list value must have as many elements as the
    parameter has ``<Value>`` children."""
    root = _parse(text)
    blocks = {block.action_id: block for block in _blocks(root)}
    for (action_id, ordinal), value in changes.items():
        _set_value(blocks[action_id].parameters[ordinal], value)
    return _serialise(root, text)


def _parse(text: str, max_depth: int = MAX_DEPTH) -> ET.Element:
    parser = DefusedXMLParser(
        target=ET.TreeBuilder(insert_comments=True, insert_pis=True),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(text.lstrip("\ufeff"))
        root = parser.close()
    except DefusedXmlException as exc:
        raise _hostile(exc, getattr(getattr(parser, "parser", None), "CurrentLineNumber", None)) from exc
    except ET.ParseError as exc:
        line, column = exc.position
        raise BadInput(
            f"The script is not well-formed XML: {exc}.",
            code="malformed_script",
            details={"line": line, "column": column},
        ) from exc
    _check_depth(root, max_depth)
    return root


def _hostile(exc: DefusedXmlException, line: int | None) -> BadInput:
    what = "entities" if isinstance(exc, EntitiesForbidden) else "a DOCTYPE"
    at = f" at line {line}" if line else ""
    return BadInput(
        f"The script XML declares {what}{at}. DOCTYPE and entity declarations are refused "
        "because they allow entity-expansion and external-file attacks; remove them.",
        code="hostile_xml",
        details={"reason": type(exc).__name__, "line": line},
    )


def _check_depth(root: ET.Element, max_depth: int) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            where, problem = f"<{_local(element.tag)}>", f"elements are nested more than {max_depth} deep"
            raise Invalid(
                f"Invalid script XML: {where}: {problem}.",
                code="too_deep",
                details={
                    "field": "content",
                    "limit": max_depth,
                    "errors": [{"field": where, "code": "too_deep", "message": problem}],
                },
            )
        stack.extend((child, depth + 1) for child in element)


def _blocks(root: ET.Element) -> list[_Block]:
    structs = [element for element in root.iter() if _local(element.tag) == "ActionStruct"]
    if not structs:
        raise _invalid("document", "no <ActionStruct> found; expected a Desktop Studio script export")
    blocks: list[_Block] = []
    seen: set[str] = set()
    for number, struct in enumerate(structs, start=1):
        block = _block(struct, f"ActionStruct #{number}")
        if block.action_id in seen:
            raise _invalid(f"ActionStruct #{number}", f"action ID {block.action_id!r} is used twice")
        seen.add(block.action_id)
        blocks.append(block)
    return blocks


def _block(struct: ET.Element, where: str) -> _Block:
    if any(_local(inner.tag) == "ActionStruct" for inner in struct.iter() if inner is not struct):
        raise _invalid(where, "contains another <ActionStruct>")
    action = _child(struct, "Action")
    if action is None:
        raise _invalid(where, "has no <Action> element")
    action_id = (
        action.get("ID") or _child_text(struct, "ActionID") or _child_text(struct, "ID") or struct.get("ID") or ""
    ).strip()
    if not action_id:
        raise _invalid(where, 'has no action ID (expected <Action ID="...">, <ActionID>...</ActionID> or <ID>...</ID>)')
    name = (action.get("Name") or action.text or "").strip()
    if not name:
        raise _invalid(where, 'has no action name (expected <Action Name="..."> or <Action>NAME</Action>)')
    parameters = [
        parameter
        for container in struct.iter()
        if _local(container.tag) == "Parameters"
        for parameter in container
        if _local(parameter.tag) == "Parameter"
    ]
    for number, parameter in enumerate(parameters, start=1):
        if not parameter.get("Name"):
            raise _invalid(f"{where}, parameter #{number}", "has no Name attribute")
    return _Block(action_id, name, parameters)


def _parameter(element: ET.Element) -> tuple[str, PropertyValue]:
    values = _value_children(element)
    if values:
        return element.get("Name", ""), [value.text or "" for value in values]
    return element.get("Name", ""), element.text or ""


def _set_value(element: ET.Element, value: PropertyValue) -> None:
    if isinstance(value, list):
        for child, text in zip(_value_children(element), value, strict=True):
            child.text = text
    else:
        element.text = value


def _serialise(root: ET.Element, original: str) -> str:
    _restore_default_namespace(root)
    found = _PROLOG.match(original)
    prolog = found.group() if found else ""  # always found: every part of the pattern is optional
    return prolog + ET.tostring(root, encoding="unicode") + original[len(original.rstrip()) :]


def _restore_default_namespace(root: ET.Element) -> None:
    """Write ``<Script xmlns="urn:x"><Action/>`` back as it came, not as ``<ns0:Script ...>``."""
    if not (isinstance(root.tag, str) and root.tag.startswith("{")):
        return
    elements = [element for element in root.iter() if isinstance(element.tag, str)]
    if any(not element.tag.startswith("{") for element in elements):
        return  # some elements are in no namespace: only prefixes can say so
    prefix = root.tag.partition("}")[0] + "}"
    for element in elements:
        if element.tag.startswith(prefix):
            element.tag = element.tag[len(prefix) :]
    root.attrib = {"xmlns": prefix[1:-1], **root.attrib}


def _value_children(element: ET.Element) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == "Value"]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((child for child in element if _local(child.tag) == name), None)


def _child_text(element: ET.Element, name: str) -> str | None:
    """The stripped text of the first direct child called ``name`` (None if absent or empty).
    Only direct children: an ``<ActionID>`` deeper down is a branch target."""
    child = _child(element, name)
    if child is None:
        return None
    return (child.text or "").strip() or None


def _local(tag: object) -> str:
    # Comments and processing instructions have a function as their tag.
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _invalid(where: str, problem: str) -> Invalid:
    return Invalid(
        f"Invalid script XML: {where}: {problem}.",
        code="invalid_script",
        details={"errors": [{"field": where, "code": "invalid_script", "message": problem}]},
    )
