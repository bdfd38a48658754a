"""The ``lifeboat`` command line: thin commands over the same services as the API."""

from lifeboat.cli import continuity, core, demo, drill, edge, failback, sync  # noqa: F401  (they register their commands on ``app``)
from lifeboat.cli.common import app

__all__ = ["app"]
