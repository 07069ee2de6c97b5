"""Webhook targets (every non-public address refused, the allow-list), and the send window."""

from __future__ import annotations

import ipaddress

import pytest

from flambeau.gateway import GatewayConfig
from flambeau.gateway.errors import WebhookTargetRefusedError
from flambeau.gateway.webhook_targets import address_class, check_target
from flambeau.gateway.webhooks import Window

REFUSED = [
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "private"),
    ("100.64.0.1", "non-global"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "link-local"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
async def test_every_internal_address_is_refused_with_its_reason(address: str, reason: str) -> None:
    assert address_class(ipaddress.ip_address(address)) == reason
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(WebhookTargetRefusedError) as caught:
        await check_target(f"https://{host}:8443/hook", ())
    assert caught.value.reason.startswith(str(ipaddress.ip_address(address)))
    assert caught.value.reason.endswith(f" is not a public address ({reason})")
    assert str(caught.value).startswith("url: ")


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700::1111"])
async def test_public_addresses_are_accepted_over_https_only(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    target = await check_target(f"https://{host}/hook?token=t", ())
    assert target.address == ipaddress.ip_address(address)
    assert target.extensions() == {"sni_hostname": address}
    with pytest.raises(WebhookTargetRefusedError, match="must be https://"):
        await check_target(f"http://{host}/hook", ())


async def test_a_name_is_judged_by_the_addresses_it_resolves_to() -> None:
    with pytest.raises(WebhookTargetRefusedError) as caught:
        await check_target("https://localhost:9/hook", ())
    assert caught.value.reason.startswith("host 'localhost' resolves to ")
    assert caught.value.reason.endswith("not public (loopback)")
    with pytest.raises(WebhookTargetRefusedError, match="does not resolve"):
        await check_target("https://no-such-host.invalid/hook", ())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://8.8.8.8/", "must be an https:// URL with a host"),
        ("https:///hook", "must be an https:// URL with a host"),
        ("https://8.8.8.8:99999/", "bad port"),
        ("https://user:pass@8.8.8.8/", "must not carry credentials"),
    ],
)
async def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(WebhookTargetRefusedError) as caught:
        await check_target(url, ())
    assert caught.value.reason.startswith(reason)
    assert "pass" not in str(caught.value)


async def test_the_allow_list_admits_its_networks_and_only_them() -> None:
    allow = ("127.0.0.0/8", "::1/128")
    target = await check_target("http://127.0.0.1:8080/hook", allow)
    assert target.address == ipaddress.ip_address("127.0.0.1")
    assert target.request_url().host == "127.0.0.1"
    assert (await check_target("http://[::ffff:127.0.0.1]:8080/", allow)).host == "::ffff:127.0.0.1"
    with pytest.raises(WebhookTargetRefusedError, match=r"10\.0\.0\.1 is not a public address"):
        await check_target("https://10.0.0.1/", allow)
    with pytest.raises(WebhookTargetRefusedError, match="must be https://"):
        await check_target("http://10.0.0.1/", allow)


def test_the_allow_list_is_empty_by_default_and_checked() -> None:
    assert GatewayConfig().webhook_allow_networks == ()
    with pytest.raises(ValueError, match="webhook_allow_networks: 'intranet' is no network"):
        GatewayConfig(webhook_allow_networks=("intranet",))


def test_the_window_position_waits_for_the_oldest_event_in_flight() -> None:
    window = Window([5, 0])
    for offset in (5, 6, 7):
        window.open(0, offset)
    window.read_at[0] = 8
    window.close(0, 6)
    window.close(0, 7)
    assert window.positions == [5, 0]
    window.close(0, 5)
    assert window.positions == [8, 0]
    window.open(1, 0)
    window.read_at[1] = 3
    assert window.positions == [8, 0]
    window.close(1, 0)
    assert window.positions == [8, 3]
