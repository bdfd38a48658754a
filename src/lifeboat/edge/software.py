"""Is Kamailio installed, with every module the template loads? If not, say what to install."""

from __future__ import annotations

import glob
import shutil
from dataclasses import dataclass
from pathlib import Path

from lifeboat.edge.config import MODULES
from lifeboat.errors import Unavailable

# Debian 12 packages; a module not named here is in "kamailio" itself.
PACKAGE_OF = {"http_client": "kamailio-utils-modules", "jansson": "kamailio-extra-modules"}
MODULE_DIRS = ("/usr/lib/*/kamailio/modules", "/usr/lib/kamailio/modules", "/usr/local/lib*/kamailio/modules")


@dataclass(frozen=True)
class Kamailio:
    program: Path
    module_dir: Path


def find_kamailio() -> Kamailio:
    """The installed Kamailio, or Unavailable ``edge_software_missing`` naming the packages."""
    program = shutil.which("kamailio") or next(
        (p for p in ("/usr/sbin/kamailio", "/usr/local/sbin/kamailio") if Path(p).is_file()), None
    )
    module_dir = next((Path(d) for pattern in MODULE_DIRS for d in sorted(glob.glob(pattern))), None)
    if program is None or module_dir is None:
        raise _missing(["kamailio", *sorted(set(PACKAGE_OF.values()))], MODULES)
    absent = [m for m in MODULES if not (module_dir / f"{m}.so").is_file()]
    if absent:
        raise _missing(sorted({PACKAGE_OF.get(m, "kamailio") for m in absent}), absent)
    return Kamailio(Path(program), module_dir)


def _missing(packages: list[str], modules: tuple[str, ...] | list[str]) -> Unavailable:
    command = "apt-get install " + " ".join(packages)
    return Unavailable(
        f"The voice edge needs Kamailio with the modules {', '.join(modules)}: install them with `{command}`.",
        code="edge_software_missing",
        details={"packages": packages, "modules": list(modules), "install": command},
    )


def module_dir_or_default() -> Path:
    """Where the modules are, or where Debian puts them (to write a configuration for elsewhere)."""
    found = next((Path(d) for pattern in MODULE_DIRS for d in sorted(glob.glob(pattern))), None)
    return found or Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
