"""The voice edge's Kamailio configuration and the check of the installed software."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeboat.edge import software
from lifeboat.edge.config import CACHE_S, KNOWN_S, MODULES, EdgeSettings, render
from lifeboat.errors import Invalid, Unavailable


def settings(**changes) -> EdgeSettings:
    values = {
        "name": "edge-a",
        "api": "http://127.0.0.1:8000",
        "token": "T" * 43,
        "run_dir": Path("/tmp/run-edge"),
        "module_dir": Path("/usr/lib/x86_64-linux-gnu/kamailio/modules"),
        "port": 5070,
        "rpc_port": 5090,
    }
    return EdgeSettings(**{**values, **changes})


def test_the_configuration_listens_asks_the_api_and_caches_as_the_spec_says():
    text = render(settings())
    assert "listen=udp:127.0.0.1:5070" in text and "listen=tcp:127.0.0.1:5070" in text
    assert "listen=tcp:127.0.0.1:5090" in text
    assert "http://127.0.0.1:8000/api/v1/voice/route?number=%2B$var(key)" in text
    assert "Authorization: Bearer " + "T" * 43 in text
    assert f"routes=>size=14;autoexpire={CACHE_S};" in text and CACHE_S <= 5
    assert f"known=>size=14;autoexpire={KNOWN_S};" in text and KNOWN_S == 3600
    assert 'modparam("ctl", "binrpc", "unix:/tmp/run-edge/kamailio_ctl")' in text
    for code in ("302", "404", "480", "503", "405", "200"):
        assert f'"{code}"' in text
    assert all(f'loadmodule "{m}.so"' in text for m in MODULES)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "edge a"}, "name"),
        ({"token": 'x"; exit; "'}, "token"),
        ({"api": "http://127.0.0.1:8000\nrequest_route {"}, "api"),
        ({"port": 0}, "port"),
        ({"rpc_port": 5070}, "rpc_port"),
        ({"listen": "1.2.3.4; evil"}, "listen"),
    ],
)
def test_a_value_that_would_break_the_configuration_is_refused(change, field):
    with pytest.raises(Invalid) as raised:
        render(settings(**change))
    assert field in [e["field"] for e in raised.value.details["errors"]]


def test_without_kamailio_the_error_names_the_packages_to_install(monkeypatch):
    monkeypatch.setattr(software.shutil, "which", lambda _: None)
    monkeypatch.setattr(software, "MODULE_DIRS", ("/nonexistent/kamailio/modules",))
    monkeypatch.setattr(software.Path, "is_file", lambda _self: False)
    with pytest.raises(Unavailable) as raised:
        software.find_kamailio()
    assert raised.value.code == "edge_software_missing"
    assert "apt-get install kamailio kamailio-extra-modules kamailio-utils-modules" in raised.value.message


def test_a_missing_module_names_its_debian_package(monkeypatch, tmp_path):
    for module in MODULES:
        if module != "http_client":
            (tmp_path / f"{module}.so").write_bytes(b"")
    monkeypatch.setattr(software.shutil, "which", lambda _: "/usr/sbin/kamailio")
    monkeypatch.setattr(software, "MODULE_DIRS", (str(tmp_path),))
    with pytest.raises(Unavailable) as raised:
        software.find_kamailio()
    assert raised.value.details["packages"] == ["kamailio-utils-modules"]
    assert raised.value.details["modules"] == ["http_client"]
