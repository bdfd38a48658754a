"""Alembic migrations, one tree per kind of database (``directory`` and ``region``).

``migrate(database, kind)`` upgrades a database to the newest revision; it is what
``lifeboat migrate`` and ``lifeboat serve`` (with ``auto_migrate``) call.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from lifeboat.store.database import Database

HERE = Path(__file__).parent
KINDS = ("directory", "region")


def alembic_config(kind: str) -> Config:
    if kind not in KINDS:
        raise ValueError(f"unknown database kind {kind!r}")
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / kind))
    return cfg


def migrate(database: Database, kind: str, revision: str = "head") -> None:
    cfg = alembic_config(kind)
    with database.engine.connect().execution_options(lifeboat_write=True) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
