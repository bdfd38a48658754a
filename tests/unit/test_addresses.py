"""Which addresses a webhook may reach, in every spelling a resolver accepts."""

from __future__ import annotations

import ipaddress

import pytest

from lifeboat.config import EDGE_RPC_NETWORKS
from lifeboat.domain.addresses import allowed, edge_rpc_problem, is_local_name, literal_address, verdict

SPELLINGS = [  # host as written in a URL, the address it names
    ("127.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0X7F.0.0.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0177.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"),
    ("127.0.0.1.", "127.0.0.1"),
    ("0", "0.0.0.0"),
    ("169.254.43518", "169.254.169.254"),
    ("[::1]", "::1"),
    ("::ffff:127.0.0.1", "::ffff:7f00:1"),
]


@pytest.mark.parametrize(("host", "address"), SPELLINGS)
def test_every_spelling_of_an_address_is_read_as_that_address(host, address):
    assert literal_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host", ["example.com", "1.2.3.4.5", "256.1.1.1", "08.0.0.1", "1..2", "127.0.0.1x", "4294967296"]
)
def test_what_is_not_an_address_is_a_name(host):
    assert literal_address(host) is None


VERDICTS = [
    ("93.184.215.14", "public"),
    ("2606:4700::1111", "public"),
    ("64:ff9b::5db8:d70e", "public"),
    ("2002:5db8:d70e::1", "public"),
    ("127.0.0.1", "private"),
    ("10.0.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.0.1", "private"),
    ("100.64.0.1", "private"),
    ("::1", "private"),
    ("fd00::1", "private"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::a00:1", "private"),
    ("2002:c0a8:101::", "private"),
    ("169.254.169.254", "forbidden"),
    ("::ffff:169.254.169.254", "forbidden"),
    ("64:ff9b::a9fe:a9fe", "forbidden"),
    ("fe80::1", "forbidden"),
    ("fec0::1", "forbidden"),
    ("0.0.0.0", "forbidden"),
    ("::", "forbidden"),
    ("224.0.0.1", "forbidden"),
    ("ff02::1", "forbidden"),
    ("240.0.0.1", "forbidden"),
    ("255.255.255.255", "forbidden"),
    ("192.0.2.1", "forbidden"),
    ("::127.0.0.1", "forbidden"),
    ("64:ff9b:1::a00:1", "forbidden"),
    ("2001::1", "forbidden"),
]


@pytest.mark.parametrize(("address", "expected"), VERDICTS)
def test_each_address_is_public_private_or_forbidden(address, expected):
    ip = ipaddress.ip_address(address)
    assert verdict(ip) == expected
    assert allowed(ip, allow_private=False) is (expected == "public")
    assert allowed(ip, allow_private=True) is (expected != "forbidden")


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("api.localhost", True),
        ("ip6-localhost", True),
        ("localhost.example.com", False),
        ("example.com", False),
    ],
)
def test_localhost_names_mean_this_machine(host, local):
    assert is_local_name(host) is local


# ------------------------------------------------------------------------ voice edges' RPC


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.20.0.1", "::1", "fd00::5", "::ffff:10.0.0.1"]
)
def test_an_edge_rpc_on_loopback_or_a_private_network_is_allowed_by_default(host):
    assert edge_rpc_problem(host, list(EDGE_RPC_NETWORKS)) is None


@pytest.mark.parametrize(
    "host, why",
    [
        ("8.8.8.8", "not in the networks"),
        ("2001:4860:4860::8888", "not in the networks"),
        ("::ffff:8.8.8.8", "not in the networks"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("edge.example.com", "not an IP address"),
        ("localhost", "not an IP address"),
        ("0177.0.0.1", "not an IP address"),
        ("2130706433", "not an IP address"),
        ("", "not an IP address"),
    ],
)
def test_an_edge_rpc_elsewhere_is_refused_with_the_reason(host, why):
    problem = edge_rpc_problem(host, list(EDGE_RPC_NETWORKS))
    assert problem is not None and why in problem


def test_the_operators_networks_replace_the_default():
    assert edge_rpc_problem("203.0.113.7", ["203.0.113.0/24"]) is None
    assert edge_rpc_problem("127.0.0.1", ["203.0.113.0/24"]) is not None
    assert edge_rpc_problem("169.254.169.254", ["0.0.0.0/0"]) is not None  # never, whatever the setting
