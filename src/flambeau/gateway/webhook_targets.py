"""Where a webhook may send: public addresses only, checked at registration and at delivery.

A webhook's URL is chosen by a partner. Without a rule the gateway would POST wherever it is
told: to its own admin port, a cloud metadata service (``169.254.169.254``), a database on the
private network (server-side request forgery). The rule: every address the URL's host is or
resolves to must be globally routable. Refused, each named in the refusal:

- ``unspecified`` (``0.0.0.0``, ``::``), ``loopback`` (``127.0.0.0/8``, ``::1``, and names such
  as ``localhost`` that resolve there), ``link-local`` (``169.254.0.0/16``, ``fe80::/10``),
  ``multicast`` (``224.0.0.0/4``, ``ff00::/8``), ``private`` (``10/8``, ``172.16/12``,
  ``192.168/16``, ``fc00::/7``, documentation ranges), ``reserved`` (``240.0.0.0/4``, ...),
  and any other address Python's :mod:`ipaddress` does not call global (``100.64.0.0/10``);
- an IPv6 address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, 6to4 ``2002::/16``,
  NAT64 ``64:ff9b::/96``) is judged by the IPv4 address it carries.

A name that resolves to several addresses is refused if any of them is refused. The check runs
at registration (``POST /v1/webhooks`` answers a 400 problem naming ``url``) and again when the
deliverer resolves the host before sending (DNS may have changed since): the deliverer then
connects to the very address it checked, keeping the URL's host in the ``Host`` header and as
the TLS server name, so no second DNS answer slips in between check and connect. A target
refused at delivery gets no request; its events go to the dead letters.

Operators whose receivers live on an internal network, and tests with a local receiver, list
those networks in :attr:`GatewayConfig.webhook_allow_networks` (CIDR strings, empty by
default). Addresses inside them are accepted, and only for them is plain ``http://`` allowed;
every other endpoint must be ``https://``.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from flambeau.gateway.errors import WebhookTargetRefusedError

__all__ = [
    "RESOLVE_TIMEOUT_S",
    "Target",
    "address_class",
    "check_target",
    "networks",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
RESOLVE_TIMEOUT_S = 5.0
"""Longest wait for the host's addresses; a slower answer refuses the target."""


@dataclass(frozen=True)
class Target:
    """A checked webhook URL and the address to connect to for it."""

    url: str
    host: str
    address: Address

    def request_url(self) -> httpx.URL:
        """The URL with its host replaced by the checked address."""
        return httpx.URL(self.url).copy_with(host=str(self.address))

    def extensions(self) -> dict[str, str]:
        """Request extensions: the TLS server name stays the URL's host."""
        return {"sni_hostname": self.host}


@functools.lru_cache(maxsize=32)
def networks(allow: tuple[str, ...]) -> tuple[Network, ...]:
    """The allow-list as networks; a malformed entry raises ``ValueError`` naming it."""
    parsed: list[Network] = []
    for entry in allow:
        try:
            parsed.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"webhook_allow_networks: {entry!r} is no network: {exc}") from None
    return tuple(parsed)


def _carried(address: Address) -> Address:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_class(address: Address) -> str | None:
    """Why ``address`` is no webhook target (``"loopback"``, ...), or ``None`` when public."""
    address = _carried(address)
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _addresses(url: str, host: str, port: int) -> list[Address]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            loop = asyncio.get_running_loop()
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise WebhookTargetRefusedError(
            url, f"host {host!r} did not resolve within {RESOLVE_TIMEOUT_S:g} s"
        ) from None
    except (OSError, UnicodeError) as exc:
        raise WebhookTargetRefusedError(url, f"host {host!r} does not resolve ({exc})") from None
    found = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
    if not found:
        raise WebhookTargetRefusedError(url, f"host {host!r} resolves to no address")
    return list(dict.fromkeys(found))


async def check_target(url: str, allow: tuple[str, ...]) -> Target:
    """Resolve ``url``'s host and check every address; raise :class:`WebhookTargetRefusedError`.

    ``allow`` is :attr:`GatewayConfig.webhook_allow_networks`.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookTargetRefusedError(url, "must be an https:// URL with a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookTargetRefusedError(url, f"bad port ({exc})") from None
    if parts.username or parts.password:
        raise WebhookTargetRefusedError(url, "must not carry credentials")
    allowed = networks(allow)
    addresses = await _addresses(url, parts.hostname, port)
    for address in addresses:
        if any(_carried(address) in net or address in net for net in allowed):
            continue
        if parts.scheme == "http":
            raise WebhookTargetRefusedError(
                url, "must be https:// (plain http:// only to webhook_allow_networks)"
            )
        reason = address_class(address)
        if reason is not None:
            carried = _carried(address)
            shown = f"{address} (carrying {carried})" if carried != address else str(address)
            if addresses == [_literal(parts.hostname)]:
                message = f"{shown} is not a public address ({reason})"
            else:
                message = f"host {parts.hostname!r} resolves to {shown}, not public ({reason})"
            raise WebhookTargetRefusedError(url, message)
    return Target(url, parts.hostname, addresses[0])
