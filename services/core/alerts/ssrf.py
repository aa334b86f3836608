"""Outbound requests to URLs people typed in (webhooks, Slack, Teams): refuse internal targets.

A URL is resolved and refused when ANY of its addresses is private, loopback, link-local,
multicast, reserved, unspecified, shared (CGNAT) or a cloud metadata endpoint — when it is saved
and again when it is used. The request then connects to the address that was vetted (not to a
second DNS answer: DNS rebinding), while the URL, Host header and TLS SNI keep the real hostname so
certificates are still checked against it. Redirects are never followed.

SEAWALL_ALLOW_LOOPBACK_WEBHOOKS=true lets loopback through (tests, on-premises receivers on the
same host); nothing else is ever allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = {ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")}


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEAWALL_", extra="ignore")
    allow_loopback_webhooks: bool = False


def loopback_allowed() -> bool:
    # Read each time: tests and operators flip it without restarting anything that imported us.
    return WebhookSettings().allow_loopback_webhooks


class UnsafeUrl(ValueError):
    """The URL may not be called; the message says why in words for the person who typed it."""


def refusal(ip: IP, allow_loopback: bool) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    for test, words in ((ip.is_link_local, "a link-local address"), (ip.is_multicast, "a multicast address"),
                        (ip.is_private, "a private address"), (ip.is_reserved, "a reserved address"),
                        (ip.is_unspecified, "an unspecified address")):
        if test:
            return words
    if not ip.is_global:
        return "a non-public address"
    return None


async def resolve_host(host: str, port: int) -> list[IP]:
    """Every address the host resolves to (the operating system's resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # An IPv4/IPv6 sockaddr's host is a str (the int in typeshed's union is for other families);
    # "%" starts an IPv6 zone id.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


@dataclass(frozen=True)
class Vetted:
    url: str
    host: str
    port: int
    addresses: tuple[IP, ...]


async def vet(url: str, allow_loopback: bool | None = None) -> Vetted:
    """Check a URL and resolve it; raise UnsafeUrl with the reason."""
    allow = loopback_allowed() if allow_loopback is None else allow_loopback
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl("The URL is not valid.")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("The URL must start with https://.")
    if parts.username or parts.password:
        raise UnsafeUrl("The URL must not contain a user name or password.")
    host = parts.hostname
    try:
        literal: IP | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await resolve_host(host, port)
        except OSError:
            raise UnsafeUrl(f"The host name {host} does not resolve.")
    if not addresses:
        raise UnsafeUrl(f"The host name {host} does not resolve.")
    for ip in addresses:
        if (why := refusal(ip, allow)) is not None:
            raise UnsafeUrl(f"{host} resolves to {why} ({_unmapped(ip)}); only public addresses may receive notifications.")
    # Plain http only to a loopback receiver when that is allowed: never send signed alerts in clear over a network.
    if parts.scheme == "http" and not (allow and all(_unmapped(ip).is_loopback for ip in addresses)):
        raise UnsafeUrl("The URL must start with https://.")
    return Vetted(url, host, port, tuple(addresses))


def _unmapped(ip: IP) -> IP:
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the vetted addresses whatever the URL's host name resolves to now."""

    def __init__(self, vetted: Vetted):
        self._vetted = vetted
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        if host.strip("[]") not in (self._vetted.host, str(self._vetted.addresses[0])) or port != self._vetted.port:
            raise httpcore.ConnectError(f"refusing to connect to {host}:{port}: not the vetted target")
        last: Exception | None = None
        for ip in self._vetted.addresses:
            try:
                return await self._inner.connect_tcp(str(ip), port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError("no address to connect to")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, vetted: Vetted):
        super().__init__(retries=0)
        # httpx builds its pool without a network-backend parameter; replace it with one that pins
        # the connection to the vetted addresses (TLS still verifies the certificate for the host name).
        self._pool = httpcore.AsyncConnectionPool(ssl_context=ssl.create_default_context(), network_backend=_PinnedBackend(vetted),
                                                  http1=True, http2=False)


def pinned_client(vetted: Vetted, timeout: float = 15.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=_PinnedTransport(vetted), follow_redirects=False, timeout=timeout)
