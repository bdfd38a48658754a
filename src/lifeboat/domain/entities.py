"""The configuration entities of a tenant (SPEC §2), described once, as data.

Each ``EntityType`` names its fields (with their checks), its links to other entities,
its natural key and the permission area that guards it. Storage, the generic API
routes, validation, the sync order and the parametrised tests all read this table.
What fields and links cannot say (a password hashed, a file's bytes kept apart, a script
read, an address that must suit its channel, which entities the sync copies) is a rule
from ``domain.entity_rules`` that the type names; no code elsewhere compares type names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifeboat.domain import entity_rules as rules
from lifeboat.domain import fields as f
from lifeboat.domain import json_limits
from lifeboat.domain.entity_rules import HashPassword, Limits
from lifeboat.domain.entity_rules import file_facts as file_facts  # re-exported: the API of this module
from lifeboat.domain.json_limits import DEFAULT_LIMITS, JsonLimits
from lifeboat.errors import Invalid, NotFound

PERMISSIONS = frozenset(
    {
        "admin.view",
        "admin.edit",
        "acd.view",
        "acd.edit",
        "studio.view",
        "studio.edit",
        "bcp.sync.view",
        "bcp.sync.edit",
        "bcp.enablement.view",
        "bcp.enablement.edit",
        "agent",
    }
)
BCP_TYPES = ("none", "single", "multiple")
MEDIA_TYPES = ("voice", "chat", "email", "sms", "digital")
CHANNELS = ("voice", "chat", "email", "sms")


@dataclass(frozen=True)
class Field:
    name: str
    spec: f.Spec
    required: bool = False
    default: Any = None
    write_only: bool = False


@dataclass(frozen=True)
class Link:
    """A reference to another entity by id.

    ``shape`` is ``one`` (``role_id``), ``many`` (``disposition_ids``) or ``nested``
    (``skills: [{skill_id, ...}]``, where ``key`` names the id inside each item).
    """

    field: str
    target: str
    shape: str = "one"
    key: str | None = None

    def ids(self, data: dict[str, Any]) -> list[int]:
        value = data.get(self.field)
        if value is None:
            return []
        if self.shape == "one":
            return [value]
        if self.shape == "many":
            return list(value)
        return [item[self.key] for item in value]


@dataclass(frozen=True)
class EntityType:
    """One type of configuration entity. Every field after ``links`` is optional and means
    "no such rule" when left out."""

    name: str
    app: str
    area: str  # permission area: admin / acd / studio (``{area}.view``, ``{area}.edit``)
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    singleton: bool = False
    has_content: bool = False  # bytes kept beside the row (files)
    # Validated fields -> what is stored (and the bytes kept beside the row).
    prepare: rules.Prepare | None = None
    # Problems between valid fields, as {field, code, message}.
    check: rules.Check | None = None
    # The same rule as far as JSON Schema can say it on one body (the published document).
    check_schema: tuple[dict[str, Any], ...] = ()
    # Which entities of the type the sync copies (all when None).
    sync_scope: rules.SyncScope | None = None
    # Types named from inside the content, not through links: the sync writes this type after
    # them and rewrites the content with their BCP ids (``Translator.script``) once they exist.
    content_targets: tuple[str, ...] = ()
    # Types whose entities referring to one of this type are deleted with it (instead of
    # blocking its deletion).
    removed_with: tuple[str, ...] = ()
    # The field claimed in the directory's login index (unique across tenants); it must be
    # the natural key.
    login_key: str | None = None
    # Stored fields that no answer or audit record shows and that an update keeps.
    stored_secrets: frozenset[str] = frozenset()
    field_names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_names", frozenset(x.name for x in self.fields))

    def key_of(self, data: dict[str, Any]) -> str:
        """The natural key as one string (what a human recognises in another tenant)."""
        if len(self.natural_key) == 1:  # most types; a sync asks for every entity's key
            return str(data.get(self.natural_key[0], ""))
        return "|".join(str(data.get(name, "")) for name in self.natural_key)

    def public(self, data: dict[str, Any]) -> dict[str, Any]:
        hidden = {x.name for x in self.fields if x.write_only} | self.stored_secrets
        return {k: v for k, v in data.items() if k not in hidden}


def _active() -> Field:
    return Field("is_active", f.boolean(), default=True)


ENTITY_TYPES: dict[str, EntityType] = {
    t.name: t
    for t in (
        EntityType(
            "business-unit",
            "ACD",
            "acd",
            singleton=True,
            fields=(
                Field("name", f.text(), required=True),
                Field("time_zone", f.time_zone(), default="UTC"),
                Field("settings", f.json_object(), default={}),
            ),
        ),
        EntityType(
            "hours-of-operation",
            "ACD",
            "acd",
            natural_key=("name",),
            fields=(
                Field("name", f.text(), required=True),
                Field("time_zone", f.time_zone(), default="UTC"),
                Field("weekly", f.weekly(), default=[]),
                Field("holidays", f.holidays(), default=[]),
                _active(),
            ),
        ),
        EntityType(
            "dispositions",
            "ACD",
            "acd",
            natural_key=("name",),
            fields=(
                Field("name", f.text(), required=True),
                Field("classification", f.text(100), default="neutral"),
                _active(),
            ),
        ),
        EntityType(
            "skills",
            "ACD",
            "acd",
            natural_key=("name",),
            fields=(
                Field("name", f.text(), required=True),
                Field("media_type", f.choice(*MEDIA_TYPES), default="voice"),
                Field("hours_of_operation_id", f.reference()),
                Field("disposition_ids", f.references(), default=[]),
                _active(),
            ),
            links=(
                Link("hours_of_operation_id", "hours-of-operation"),
                Link("disposition_ids", "dispositions", "many"),
            ),
        ),
        EntityType(
            "roles",
            "Admin",
            "admin",
            natural_key=("name",),
            fields=(
                Field("name", f.text(), required=True),
                Field("permissions", f.string_set(PERMISSIONS), default=[]),
                _active(),
            ),
        ),
        EntityType(
            "teams",
            "Admin",
            "admin",
            natural_key=("name",),
            fields=(
                Field("name", f.text(), required=True),
                Field("lead_user_id", f.reference()),
                _active(),
            ),
            links=(Link("lead_user_id", "users"),),
        ),
        EntityType(
            "users",
            "Admin",
            "admin",
            natural_key=("username",),
            fields=(
                Field(
                    "username",
                    f.pattern(f.USERNAME, "bad_username", "must be 1 to 128 of a-z 0-9 . _ @ + -", lower=True),
                    required=True,
                ),
                Field("email", f.pattern(f.EMAIL, "bad_email", "must be an email address"), required=True),
                Field("first_name", f.text(100), required=True),
                Field("last_name", f.text(100), required=True),
                Field("role_id", f.reference()),
                Field("team_id", f.reference()),
                Field("bcp_type", f.choice(*BCP_TYPES), default="none"),
                Field("password", f.password(), write_only=True),
                _active(),
            ),
            links=(Link("role_id", "roles"), Link("team_id", "teams")),
            prepare=rules.hash_password_field,
            removed_with=("agent-settings",),
            login_key="username",
            stored_secrets=frozenset({"password_hash"}),
        ),
        EntityType(
            "agent-settings",
            "ACD",
            "acd",
            natural_key=("user_id",),
            fields=(
                Field("user_id", f.reference(), required=True),
                Field("max_concurrent_chats", f.integer(0, 20), default=1),
                Field("refusal_timeout_s", f.integer(0, 3600), default=30),
                Field("skills", f.agent_skills(), default=[]),
            ),
            links=(Link("user_id", "users"), Link("skills", "skills", "nested", "skill_id")),
        ),
        EntityType(
            "points-of-contact",
            "ACD",
            "acd",
            natural_key=("channel", "address"),
            fields=(
                Field("name", f.text(), required=True),
                Field("channel", f.choice(*CHANNELS), required=True),
                Field("address", f.text(254), required=True),
                Field("skill_id", f.reference()),
                Field("script_path", f.pattern(f.PATH, "bad_path", "must be a script path such as 'Inbound/Main'")),
                _active(),
            ),
            links=(Link("skill_id", "skills"),),
            check=rules.point_of_contact_address,
            check_schema=rules.POINT_OF_CONTACT_ADDRESS_SCHEMA,
            sync_scope=rules.voice_only,
        ),
        EntityType(
            "files",
            "Studio",
            "studio",
            natural_key=("path",),
            has_content=True,
            fields=(
                Field(
                    "path",
                    f.pattern(f.PATH, "bad_path", "must be a file path such as 'prompts/welcome.wav'"),
                    required=True,
                ),
                Field("content", f.base64_bytes(), required=True, write_only=True),
            ),
            prepare=rules.keep_file_bytes,
        ),
        EntityType(
            "scripts",
            "Studio",
            "studio",
            natural_key=("path",),
            fields=(
                Field(
                    "path", f.pattern(f.PATH, "bad_path", "must be a script path such as 'Inbound/Main'"), required=True
                ),
                Field("media_type", f.choice(*MEDIA_TYPES), default="voice"),
                Field("content", f.script_content(), required=True),
                _active(),
            ),
            prepare=rules.read_script,
            content_targets=("skills", "users", "hours-of-operation", "dispositions", "files"),
        ),
    )
}

READ_ONLY = frozenset({"id", "created_at", "updated_at", "tenant_id", "size", "sha256"})


@dataclass
class Entity:
    """One stored entity as a plain value. ``content`` holds a file's bytes."""

    id: int
    tenant_id: int
    type: str
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    content: bytes | None = None
    version: int = 1  # bumped by the store on every write

    @property
    def kind(self) -> EntityType:
        return ENTITY_TYPES[self.type]

    @property
    def natural_key(self) -> str:
        return self.kind.key_of(self.data)

    @property
    def is_active(self) -> bool:
        return bool(self.data.get("is_active", True))


def validate(
    kind: EntityType, payload: Any, *, current: dict[str, Any] | None = None, limits: JsonLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Check a create (``current`` is None) or a partial update over ``current``.

    Returns the full, normalised field values. Write-only fields appear only when given.
    Raises ``Invalid`` listing every problem as ``{field, code, message}``; a free-form value
    over ``limits`` is refused first, on its own (422 ``too_deep``, 413 ``value_too_large``).
    """
    if not isinstance(payload, dict):
        raise Invalid("The body must be a JSON object.", code="not_an_object")
    check_free_form(kind, payload, limits)
    errors = [
        {"field": k, "code": "unknown_field", "message": "is not a field of " + kind.name}
        for k in payload
        if k not in kind.field_names and k not in READ_ONLY
    ]
    out = {k: v for k, v in (current or {}).items() if k in kind.field_names or k in kind.stored_secrets}
    for spec in kind.fields:
        if spec.name in payload:
            try:
                out[spec.name] = spec.spec.check(f.storable(payload[spec.name]))
            except f.FieldError as exc:
                errors.append({"field": spec.name, "code": exc.code, "message": exc.message})
        elif current is None and spec.required:
            errors.append({"field": spec.name, "code": "required", "message": "is required"})
        elif current is None and not spec.write_only:
            out[spec.name] = _copy_default(spec.default)
    if kind.check is not None:
        errors.extend(kind.check(out))
    if errors:
        raise Invalid.fields(errors)
    return out


def free_form_fields(kind: EntityType) -> list[Field]:
    return [x for x in kind.fields if x.spec.free_form]


def check_free_form(kind: EntityType, data: dict[str, Any], limits: JsonLimits) -> None:
    for spec in free_form_fields(kind):
        if spec.name in data:
            json_limits.check(spec.name, data[spec.name], limits, measure_size=spec.spec.free_form == "value")


def free_form_problems(
    kind: EntityType, data: dict[str, Any], limits: JsonLimits, *, document_bytes: int
) -> list[dict[str, Any]]:
    """Stored free-form values over ``limits`` (a document over ``document_bytes``):
    ``{field, code, limit, message}`` each."""
    found = []
    for spec in free_form_fields(kind):
        if spec.name in data:
            bounds = limits if spec.spec.free_form == "value" else JsonLimits(limits.max_depth, document_bytes)
            problem = json_limits.problem(data[spec.name], bounds)
            if problem:
                found.append({"field": spec.name, **problem})
    return found


def _copy_default(value: Any) -> Any:
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def prepare(
    kind: EntityType, data: dict[str, Any], limits: Limits, hash_password: HashPassword
) -> tuple[dict[str, Any], bytes | None]:
    """Turn validated fields, in place, into what is stored (the type's ``prepare`` rule):
    a password's hash, a file's bytes apart with their size and checksum, a script read.
    Returns the fields and the bytes kept beside the row (None for most types)."""
    content = kind.prepare(data, limits, hash_password) if kind.prepare is not None else None
    return data, content


def entity_type(name: str) -> EntityType:
    """The type of that API name; ``NotFound`` (``unknown_entity_type``) lists the known ones."""
    try:
        return ENTITY_TYPES[name]
    except KeyError:
        raise NotFound(
            f"Unknown entity type {name!r}.", code="unknown_entity_type", details={"types": sorted(ENTITY_TYPES)}
        ) from None


def request_schema(kind: EntityType, *, partial: bool) -> dict[str, Any]:
    """JSON schema of a create (or partial update) body, for the API docs."""
    props = {x.name: x.spec.schema for x in kind.fields}
    required = [] if partial else [x.name for x in kind.fields if x.required]
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    if kind.check_schema:
        schema["allOf"] = list(kind.check_schema)
    return schema
