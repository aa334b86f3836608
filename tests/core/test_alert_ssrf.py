"""User-entered notification URLs: refused when any resolved address is internal, at save and send time."""

from __future__ import annotations

import ipaddress

import pytest

from services.core.alerts import ssrf


def resolves_to(monkeypatch, *addresses):
    async def fake(host, port):
        return [ipaddress.ip_address(a) for a in addresses]

    monkeypatch.setattr(ssrf, "resolve_host", fake)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "10.255.3.4", "169.254.169.254", "::1", "fd00:ec2::254",
                                     "192.168.1.10", "172.16.0.5", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::ffff:127.0.0.1"])
async def test_a_host_resolving_to_an_internal_address_is_refused(monkeypatch, address):
    resolves_to(monkeypatch, address)
    with pytest.raises(ssrf.UnsafeUrl) as e:
        await ssrf.vet("https://hooks.example.com/x", allow_loopback=False)
    assert address.split("::ffff:")[-1] in str(e.value)


@pytest.mark.parametrize("url", ["https://127.0.0.1/hook", "https://10.0.0.8/hook", "http://169.254.169.254/latest/meta-data",
                                 "https://[::1]/hook"])
async def test_literal_internal_addresses_are_refused(url):
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.vet(url, allow_loopback=False)


async def test_one_internal_address_among_public_ones_is_enough_to_refuse(monkeypatch):
    resolves_to(monkeypatch, "52.12.1.1", "10.0.0.1")
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.vet("https://hooks.example.com/x", allow_loopback=False)


async def test_a_public_address_passes_and_is_kept_for_the_connection(monkeypatch):
    resolves_to(monkeypatch, "52.12.1.1")
    vetted = await ssrf.vet("https://hooks.example.com/x", allow_loopback=False)
    assert vetted.addresses == (ipaddress.ip_address("52.12.1.1"),) and vetted.port == 443


async def test_the_loopback_switch_allows_loopback_and_nothing_else(monkeypatch):
    monkeypatch.setenv("SEAWALL_ALLOW_LOOPBACK_WEBHOOKS", "true")
    assert (await ssrf.vet("http://127.0.0.1:9999/hook")).addresses == (ipaddress.ip_address("127.0.0.1"),)
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.vet("https://169.254.169.254/")
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.vet("https://10.0.0.1/")
    monkeypatch.delenv("SEAWALL_ALLOW_LOOPBACK_WEBHOOKS")
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.vet("http://127.0.0.1:9999/hook")


async def test_plain_http_credentials_in_the_url_and_other_schemes_are_refused(monkeypatch):
    resolves_to(monkeypatch, "52.12.1.1")
    for url in ("http://hooks.example.com/x", "https://user:pw@hooks.example.com/x", "ftp://hooks.example.com/", "not a url"):
        with pytest.raises(ssrf.UnsafeUrl):
            await ssrf.vet(url, allow_loopback=False)
