"""Typed settings, validated once at start.

Sources, strongest first: values given by the caller (CLI flags), the TOML file named by
``--config`` / ``LIFEBOAT_CONFIG``, ``LIFEBOAT_*`` environment variables, defaults.
Nothing here opens a database: engines are built by ``lifeboat.bootstrap``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lifeboat.errors import BadInput
from lifeboat.ids import MAX_BLOCK

REGION_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


class RegionSettings(BaseModel):
    """One region ("server cluster"): its own database and voice cluster."""

    name: str
    voice_cluster: str
    database_url: str | None = None
    id_block: int = Field(ge=1, le=MAX_BLOCK)

    @field_validator("name")
    @classmethod
    def _name_is_simple(cls, value: str) -> str:
        if not REGION_NAME.match(value):
            raise ValueError("region names are lowercase letters, digits and '-', e.g. 'na1'")
        return value


# Loopback and the private ranges: where an operator's own edges live.
EDGE_RPC_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
)


def _default_regions() -> list[RegionSettings]:
    return [
        RegionSettings(name="na1", voice_cluster="sip:na1.voice.lifeboat.test", id_block=1),
        RegionSettings(name="eu1", voice_cluster="sip:eu1.voice.lifeboat.test", id_block=2),
    ]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIFEBOAT_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path("lifeboat-data")
    directory_url: str | None = None
    regions: list[RegionSettings] = Field(default_factory=_default_regions)
    auto_migrate: bool = True
    session_ttl_minutes: int = Field(default=12 * 60, ge=1)
    max_script_bytes: int = Field(default=1_048_576, ge=1024)
    max_file_bytes: int = Field(default=10 * 1_048_576, ge=1024)
    # Free-form JSON (business-unit settings, Studio script content): how deep it may nest
    # and how large settings may be. Answers carry at most 200 levels (json_limits.READABLE_DEPTH).
    max_json_depth: int = Field(default=64, ge=8, le=200)
    max_json_bytes: int = Field(default=262_144, ge=1024)
    database_connect_timeout_s: int = Field(default=3, ge=1)
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    # Login throttle (lifeboat.domain.throttle), shared by every replica through the directory:
    # this many failed logins within the window lock a username / a client address; each
    # later failure before a quiet window locks it again, twice as long, up to the maximum.
    # Per address is higher because a contact center's agents often share one office address.
    login_window_s: float = Field(default=900.0, gt=0)
    login_max_failures_per_username: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=100, ge=1)
    login_lockout_s: float = Field(default=60.0, gt=0)
    login_lockout_max_s: float = Field(default=3600.0, gt=0)
    # Sync jobs: how long a claimed run stays a worker's without a heartbeat.
    job_lease_s: float = Field(default=60.0, gt=0)
    # Voice routing: how old the in-memory routing table may get before it is rebuilt
    # (a switch in this process rebuilds it at once; other replicas follow within this).
    route_cache_ttl_s: float = Field(default=1.0, ge=0)
    # While the directory cannot be read (a failover), lookups answer from the last table
    # built, and voice-edge tokens read before stay valid, for at most this long.
    route_stale_max_s: float = Field(default=3600.0, ge=0)
    # Region monitor: how often each region's database is checked for region_down/up alerts.
    region_check_s: float = Field(default=15.0, gt=0)
    # Alerts.
    alert_timeout_s: float = Field(default=10.0, gt=0)
    alert_max_attempts: int = Field(default=8, ge=1)
    alert_retry_base_s: float = Field(default=5.0, gt=0)
    # Webhooks to loopback and private ranges (10/8, 172.16/12, 192.168/16, 100.64/10,
    # fc00::/7) for receivers on the operator's own network. Off: tenants choose targets,
    # and lifeboat must not become their way in. Link-local (the metadata service),
    # multicast, unspecified and reserved addresses stay refused either way.
    alert_allow_private_networks: bool = False
    # Voice edges: the networks an edge's RPC address may be in. Any voice token registers
    # an edge, and lifeboat calls the edge's RPC on every switch, so the address must be an
    # IP literal inside one of these (link-local, multicast and unspecified never are).
    edge_rpc_networks: list[str] = Field(default_factory=lambda: list(EDGE_RPC_NETWORKS))
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "lifeboat@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    # GET /metrics answers without a login unless this is set; then only to
    # ``Authorization: Bearer <metrics_token>`` (Prometheus: ``authorization: {credentials: ...}``).
    metrics_token: str | None = Field(default=None, repr=False, min_length=16)

    @field_validator("edge_rpc_networks")
    @classmethod
    def _networks_are_cidrs(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value

    @model_validator(mode="after")
    def _regions_are_distinct(self) -> Settings:
        names = [r.name for r in self.regions]
        blocks = [r.id_block for r in self.regions]
        if not names:
            raise ValueError("at least one region must be configured")
        if len(set(names)) != len(names):
            raise ValueError(f"region names must be unique, got {names}")
        if len(set(blocks)) != len(blocks):
            raise ValueError(f"region id_block values must be unique, got {blocks}")
        return self

    def directory_database_url(self) -> str:
        return self.directory_url or f"sqlite:///{self.data_dir / 'directory.db'}"

    def region_database_url(self, region: RegionSettings) -> str:
        return region.database_url or f"sqlite:///{self.data_dir / f'region-{region.name}.db'}"

    def region(self, name: str) -> RegionSettings | None:
        return next((r for r in self.regions if r.name == name), None)


def load_settings(config: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from an optional TOML file plus explicit overrides (None values ignored).

    A missing or unreadable file and every invalid value are one ``BadInput``
    (``invalid_config``) listing each problem as ``{field, code, message}``."""
    path = config or os.environ.get("LIFEBOAT_CONFIG")
    values: dict[str, Any] = {}
    if path:
        try:
            with open(path, "rb") as fh:
                values = tomllib.load(fh)
        except OSError as exc:
            unreadable = _problem("config", "unreadable", f"cannot read it ({exc.strerror or exc})")
            raise _config_error(path, [unreadable], env=False) from None
        except tomllib.TOMLDecodeError as exc:
            bad_toml = _problem("config", "bad_toml", f"not valid TOML ({exc})")
            raise _config_error(path, [bad_toml], env=False) from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = [_problem(_field_of(e["loc"]), e["type"], e["msg"]) for e in exc.errors()]
        raise _config_error(path, problems) from None


def _field_of(location: tuple[int | str, ...]) -> str:
    """``("regions", 0, "name")`` -> ``"regions.0.name"``; an error on the whole model -> ``"settings"``."""
    return ".".join(str(part) for part in location) or "settings"


def _problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def _config_error(path: Path | str | None, problems: list[dict[str, str]], *, env: bool = True) -> BadInput:
    variables = "the LIFEBOAT_* environment variables"
    source = (f"the configuration file {path}" + (f" or {variables}" if env else "")) if path else variables
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return BadInput(
        f"Invalid settings in {source}: {summary}",
        code="invalid_config",
        details={"file": str(path) if path else None, "errors": problems},
    )
