"""The create and edit forms of the Configuration pages, drawn from an entity type's fields.

Each field of ``domain.entities`` gets one input, chosen from what its check accepts (the
JSON schema the API publishes): a checkbox for a boolean, a select for a short list of
choices or for a reference to another entity, checkboxes for a set, a number, a file, a
password, a textarea of JSON for structured values and script documents, else a text box.

A posted form becomes the same JSON payload the API receives, so the API's validation gives
the messages (shown next to the fields); what the user typed is kept as typed to show again.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile

from lifeboat.domain.entities import Entity, EntityType, Field, Link
from lifeboat.errors import Conflict, Invalid, LifeboatError

MAX_SELECT_CHOICES = 50  # longer lists of fixed values (time zones) are typed instead
MAX_REFERENCE_OPTIONS = 200  # more entities than this to choose from: the id is typed
JSON_INDENT = 2


@dataclass
class Widget:
    """One input of a form: which kind, its label, its choices, and whether it is required."""

    name: str
    kind: str  # checkbox, select, checkboxes, number, file, password, json, script, text
    label: str
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    help: str = ""
    link: Link | None = None


def label_of(name: str) -> str:
    """``hours_of_operation_id`` -> ``Hours of operation``."""
    words = name.removesuffix("_ids").removesuffix("_id").replace("_", " ")
    text = words[:1].upper() + words[1:]
    return {"Is active": "Active", "Bcp type": "BCP type", "Refusal timeout s": "Refusal timeout (seconds)"}.get(
        text, text
    )


def widgets_of(kind: EntityType, *, editing: bool) -> list[Widget]:
    links = {link.field: link for link in kind.links}
    return [_widget(spec, links.get(spec.name), editing=editing) for spec in kind.fields]


def _widget(spec: Field, link: Link | None, *, editing: bool) -> Widget:
    schema = spec.spec.schema
    widget = Widget(spec.name, "text", label_of(spec.name), required=spec.required and not spec.write_only)
    types = schema.get("type")
    if types == "boolean":
        widget.kind = "checkbox"
    elif schema.get("format") == "password":
        widget.kind = "password"
        widget.help = "8 to 256 characters." + (" Leave empty to keep the current password." if editing else "")
    elif schema.get("format") == "byte":
        widget.kind = "file"
        widget.required = spec.required and not editing
        widget.help = "Leave empty to keep the current file." if editing else ""
    elif "oneOf" in schema:
        widget.kind = "script"
        widget.help = "A Studio JSON document, or Desktop Studio XML."
    elif link is not None and link.shape in ("one", "many"):
        widget.kind, widget.link = ("reference" if link.shape == "one" else "references"), link
    elif types == "integer":
        widget.kind = "number"
        widget.help = f"From {schema['minimum']} to {schema['maximum']}."
    elif "enum" in schema:
        widget.kind, widget.choices = _choices(schema["enum"])
        widget.help = "An IANA time zone such as America/New_York." if widget.kind == "text" else ""
    elif types == "array" and "enum" in schema.get("items", {}):
        widget.kind, widget.choices = "checkboxes", [(v, v) for v in schema["items"]["enum"]]
    elif types in ("array", "object"):
        widget.kind = "json"
        widget.help = _json_help(schema, link)
    return widget


def _choices(values: list[str]) -> tuple[str, list[tuple[str, str]]]:
    if len(values) > MAX_SELECT_CHOICES:
        return "text", []
    return "select", [(v, v) for v in values]


def _json_help(schema: dict[str, Any], link: Link | None) -> str:
    items = schema.get("items", {})
    if "properties" in items:
        keys = ", ".join(f'"{k}": …' for k in items["properties"])
        example = f"A JSON list of {{{keys}}}."
        return example + (f" {link.key} is the id of one of {link.target}." if link is not None else "")
    return "A JSON object."


# --------------------------------------------------------------------------- values shown


def values_of(kind: EntityType, entity: Entity | None) -> dict[str, Any]:
    """What the form shows for a stored entity (or the type's defaults for a new one)."""
    data = entity.data if entity is not None else {x.name: x.default for x in kind.fields}
    shown: dict[str, Any] = {}
    for spec in kind.fields:
        value = data.get(spec.name)
        if spec.write_only:
            shown[spec.name] = ""
        elif isinstance(value, (dict, list)) and not _is_plain_list(value):
            shown[spec.name] = json.dumps(value, indent=JSON_INDENT, ensure_ascii=False)
        elif isinstance(value, list):
            shown[spec.name] = [str(v) for v in value]
        elif isinstance(value, bool):
            shown[spec.name] = value
        else:
            shown[spec.name] = "" if value is None else str(value)
    return shown


def _is_plain_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in value)


# --------------------------------------------------------------------------- posted forms


@dataclass
class Posted:
    """A posted form: the API payload it means, what to show again, and problems found in reading it."""

    payload: dict[str, Any]
    shown: dict[str, Any]
    errors: dict[str, str]


def read_form(kind: EntityType, form: FormData, *, editing: bool) -> Posted:
    posted = Posted({}, {}, {})
    for widget in widgets_of(kind, editing=editing):
        _read(widget, form, posted)
    return posted


def _read(widget: Widget, form: FormData, posted: Posted) -> None:
    name = widget.name
    if widget.kind == "checkbox":
        posted.shown[name] = posted.payload[name] = form.get(name) == "on"
    elif widget.kind in ("checkboxes", "references"):
        # checkboxes send one value each; a typed list of ids (too many to offer) comes comma-separated
        picked = [p.strip() for v in form.getlist(name) if isinstance(v, str) for p in v.split(",") if p.strip()]
        posted.shown[name] = picked
        posted.payload[name] = [_number(v) for v in picked] if widget.kind == "references" else picked
    elif widget.kind == "file":
        upload = form.get(name)
        if isinstance(upload, UploadFile) and upload.filename:
            posted.payload[name] = base64.b64encode(upload.file.read()).decode("ascii")
        posted.shown[name] = ""
    else:
        _read_text(widget, _text(form, name), posted)


def _read_text(widget: Widget, raw: str, posted: Posted) -> None:
    name = widget.name
    posted.shown[name] = "" if widget.kind == "password" else raw
    if widget.kind == "password":
        if raw:
            posted.payload[name] = raw
    elif widget.kind in ("number", "reference"):
        posted.payload[name] = _number(raw) if raw.strip() else None
    elif widget.kind == "json" or (widget.kind == "script" and raw.lstrip().startswith("{")):
        _read_json(name, raw, posted)  # a script in JSON; XML text goes as it is
    elif raw.strip() or widget.required:
        posted.payload[name] = raw


def _read_json(name: str, raw: str, posted: Posted) -> None:
    if not raw.strip():
        return  # left empty: the default on create, unchanged on edit
    try:
        posted.payload[name] = json.loads(raw)
    except ValueError as exc:
        posted.errors[name] = f"is not valid JSON ({exc})"


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _number(raw: str) -> Any:
    """An integer if the text is one; else the text itself, which the API's check refuses by name."""
    text = raw.strip()
    return int(text) if text.lstrip("-").isdigit() else text


# --------------------------------------------------------------------------- problems shown


def field_errors(exc: LifeboatError, kind: EntityType) -> dict[str, str]:
    """The service's refusal as one message per field (the first); others go under "form"."""
    errors: dict[str, str] = {}
    for error in exc.details.get("errors", []):
        errors.setdefault(str(error.get("field", "form")), str(error.get("message", "")))
    if isinstance(exc, Conflict) and exc.code == "duplicate_natural_key" and kind.natural_key:
        for name in kind.natural_key:
            errors[name] = f"another of {kind.name} already has this {' + '.join(kind.natural_key)}"
    if "field" in exc.details and not errors:
        errors[str(exc.details["field"])] = exc.message
    known = kind.field_names
    stray = [f"{k}: {v}" for k, v in errors.items() if k not in known and k != "form"]
    errors = {k: v for k, v in errors.items() if k in known}
    if stray or not errors:
        errors["form"] = "; ".join(stray) if stray else _refusal(exc)
    return errors


def _refusal(exc: LifeboatError) -> str:
    if exc.code == "version_conflict":
        return (
            "Not saved: someone changed this entity after you opened the form. "
            "Open it again to see their change, then make yours."
        )
    if isinstance(exc, Invalid):
        return exc.message
    return f"Not saved: {exc.message}"
