"""Private addresses: refused by default, directly, by redirect, by name, by odd spellings.

The feed servers of these tests run on 127.0.0.1, which is exactly what a fetch must
refuse unless ``[network] allow`` lists it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import typing
from collections.abc import Iterable

import httpcore
import pytest

from monitor.connections import Connections
from monitor.errors import FetchError
from monitor.fetch import Fetcher, FetchLimits
from monitor.netguard import (
    AddressPolicy,
    AddressRefused,
    GuardedBackend,
    IPAddress,
    Resolver,
    kind_of,
    literal_address,
)
from monitor.records import FetchOptions, FetchResult
from tests.servers import FEEDS, HTTPServer, Reply

BODY = (FEEDS / "world.rss").read_bytes()
LOOPBACK_ONLY = ["127.0.0.1"]


def fetch(url: str, allow: Iterable[str] = (), options: FetchOptions | None = None) -> FetchResult:
    async def run() -> FetchResult:
        policy = AddressPolicy.allowing(allow)
        async with Fetcher(Connections(4), FetchLimits(deadline=10.0), policy) as fetcher:
            return await fetcher.fetch(url, options=options or FetchOptions())

    return asyncio.run(run())


def refused(url: str, allow: Iterable[str] = (), options: FetchOptions | None = None) -> str:
    with pytest.raises(FetchError) as info:
        fetch(url, allow, options)
    assert info.value.url == url
    text = str(info.value)
    assert text.startswith("refused to connect to ")
    assert text.endswith("; add it to [network] allow to fetch from it")
    return text


def test_loopback_is_refused_by_default(http: HTTPServer) -> None:
    url = http.route("/feed", Reply(body=BODY))
    assert refused(url) == (
        "refused to connect to 127.0.0.1 (a loopback address);"
        " add it to [network] allow to fetch from it"
    )
    assert http.received("/feed", "GET") == []


@pytest.mark.parametrize("allow", [["127.0.0.1"], ["127.0.0.0/8"], ["::ffff:127.0.0.1"]])
def test_an_allowed_address_is_fetched(http: HTTPServer, allow: list[str]) -> None:
    url = http.route("/feed", Reply(body=BODY))
    assert fetch(url, allow).body == BODY


def test_a_name_resolving_to_loopback_is_refused(http: HTTPServer) -> None:
    http.route("/feed", Reply(body=BODY))
    url = f"http://localhost:{http.port}/feed"
    text = refused(url)
    assert "(a loopback address, the address of localhost)" in text
    assert http.received("/feed", "GET") == []


def test_an_allowed_host_name_is_fetched_whatever_it_resolves_to(http: HTTPServer) -> None:
    http.route("/feed", Reply(body=BODY))
    assert fetch(f"http://localhost:{http.port}/feed", ["LocalHost"]).body == BODY


ODD_SPELLINGS = ["0x7f.1", "2130706433", "017700000001", "127.1", "0177.0.1", "0x7f000001"]


@pytest.mark.parametrize("host", [*ODD_SPELLINGS, "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])
def test_odd_spellings_of_loopback_are_refused(http: HTTPServer, host: str) -> None:
    http.route("/feed", Reply(body=BODY))
    text = refused(f"http://{host}:{http.port}/feed")
    assert "refused to connect to 127.0.0.1 (a loopback address" in text
    assert http.received("/feed", "GET") == []


@pytest.mark.parametrize("host", ODD_SPELLINGS)
def test_odd_spellings_reach_the_same_address_when_it_is_allowed(
    http: HTTPServer, host: str
) -> None:
    http.route("/feed", Reply(body=BODY))
    assert fetch(f"http://{host}:{http.port}/feed", LOOPBACK_ONLY).body == BODY


def test_a_dotted_quad_with_octal_parts_is_not_even_a_url(http: HTTPServer) -> None:
    # httpx refuses four-part spellings that are not plain decimal, so nothing connects.
    http.route("/feed", Reply(body=BODY))
    url = f"http://0177.0.0.1:{http.port}/feed"
    with pytest.raises(FetchError, match="the URL cannot be fetched"):
        fetch(url)
    assert http.requests == []


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("169.254.169.254", "a link-local address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("[fd00::1]", "a unique-local address"),
        ("[fe80::1]", "a link-local address"),
        ("[::1]", "a loopback address"),
        ("[::]", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
    ],
)
def test_non_public_addresses_are_refused_without_connecting(host: str, kind: str) -> None:
    # Refused before any connection is tried: there is nothing on these addresses here.
    text = refused(f"http://{host}/latest/meta-data/")
    assert f" ({kind})" in text


def test_a_redirect_to_loopback_is_refused(http: HTTPServer) -> None:
    # The first hop is allowed by name; the redirect leads to an address that is not.
    target = f"http://127.0.0.1:{http.port}/private"
    http.route("/public", Reply(status=302, headers={"Location": target}))
    http.route("/private", Reply(body=BODY))
    url = f"http://localhost:{http.port}/public"
    text = refused(url, ["localhost"])
    assert text.startswith(
        f"refused to connect to 127.0.0.1 (a loopback address) after a redirect to {target}"
    )
    assert len(http.received("/public", "GET")) == 1
    assert http.received("/private", "GET") == []


def test_a_redirect_to_cloud_metadata_is_refused(http: HTTPServer) -> None:
    url = http.route(
        "/feed", Reply(status=301, headers={"Location": "http://169.254.169.254/latest/"})
    )
    text = refused(url, LOOPBACK_ONLY)
    assert "169.254.169.254 (a link-local address) after a redirect to" in text


def test_a_proxy_on_loopback_must_be_allowed_too(http: HTTPServer) -> None:
    proxy = http.url("")
    text = refused("http://feeds.example.invalid/feed", options=FetchOptions(proxy=proxy))
    assert "127.0.0.1 (a loopback address)" in text


def test_through_a_proxy_the_feed_host_is_resolved_by_the_proxy(http: HTTPServer) -> None:
    # A forward proxy receives the absolute URL; our test server routes it like a path.
    http.route("http://feeds.example.invalid/feed", Reply(body=BODY))
    result = fetch(
        "http://feeds.example.invalid/feed", LOOPBACK_ONLY, FetchOptions(proxy=http.url(""))
    )
    assert result.body == BODY
    (request,) = http.received("http://feeds.example.invalid/feed", "GET")
    assert request.headers["host"] == "feeds.example.invalid"


def test_through_a_proxy_a_literal_private_address_is_still_refused(http: HTTPServer) -> None:
    text = refused(
        "http://169.254.169.254/latest/", LOOPBACK_ONLY, FetchOptions(proxy=http.url(""))
    )
    assert "169.254.169.254 (a link-local address)" in text
    assert http.requests == []


# -- the backend and the policy, without HTTP ---------------------------------------------


class _Recorder(httpcore.AsyncNetworkBackend):
    """An inner backend that records where it is asked to connect, and fails."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.hosts.append(host)
        raise httpcore.ConnectError("recorded")


def test_the_backend_connects_to_the_address_it_checked_not_the_name() -> None:
    # Connecting to the checked address, never to the name again, is what keeps a DNS
    # answer that changes in between (DNS rebinding) from slipping another address in.
    recorder = _Recorder()
    backend = GuardedBackend(AddressPolicy.allowing(["127.0.0.0/8", "::1"]), recorder)
    with pytest.raises(httpcore.ConnectError):
        asyncio.run(backend.connect_tcp("localhost", 9))
    assert recorder.hosts
    for host in recorder.hosts:
        assert kind_of(ipaddress.ip_address(host)) == "a loopback address"


def answers(*replies: list[str]) -> Resolver:
    """A resolver that gives these answers in turn (the last one repeats)."""
    queue = [[ipaddress.ip_address(a) for a in reply] for reply in replies]

    async def resolver(host: str, port: int, timeout: float | None) -> list[IPAddress]:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return resolver


def test_every_resolved_address_must_pass() -> None:
    # A name that resolves to a public and a private address is refused, whichever one
    # the resolver lists first, and nothing is connected to.
    for reply in (["93.184.216.34", "10.0.0.7"], ["10.0.0.7", "93.184.216.34"]):
        recorder = _Recorder()
        backend = GuardedBackend(AddressPolicy(), recorder, answers(reply))
        with pytest.raises(AddressRefused) as info:
            asyncio.run(backend.connect_tcp("news.example", 80))
        assert str(info.value.address) == "10.0.0.7"
        assert info.value.sentence() == (
            "refused to connect to 10.0.0.7 (a private address, the address of news.example);"
            " add it to [network] allow to fetch from it"
        )
        assert recorder.hosts == []


def test_a_changing_dns_answer_cannot_slip_in_another_address() -> None:
    # DNS rebinding: the first answer is public, a later one private. The name is
    # resolved once per connection and the checked address is the one connected to;
    # the next connection is checked afresh.
    recorder = _Recorder()
    backend = GuardedBackend(AddressPolicy(), recorder, answers(["93.184.216.34"], ["127.0.0.1"]))
    with pytest.raises(httpcore.ConnectError):
        asyncio.run(backend.connect_tcp("rebind.example", 80))
    assert recorder.hosts == ["93.184.216.34"]
    with pytest.raises(AddressRefused):
        asyncio.run(backend.connect_tcp("rebind.example", 80))
    assert recorder.hosts == ["93.184.216.34"]


def test_each_checked_address_is_tried_in_turn() -> None:
    recorder = _Recorder()
    backend = GuardedBackend(AddressPolicy(), recorder, answers(["2606:4700::1", "1.1.1.1"]))
    with pytest.raises(httpcore.ConnectError):
        asyncio.run(backend.connect_tcp("two.example", 443))
    assert recorder.hosts == ["2606:4700::1", "1.1.1.1"]


def test_unresolvable_names_are_a_connect_error() -> None:
    backend = GuardedBackend(AddressPolicy(), _Recorder())
    with pytest.raises(httpcore.ConnectError, match="cannot resolve"):
        asyncio.run(backend.connect_tcp("no-such-host.invalid", 80))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("0x7f.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("example.org", None),
        ("cafe.be", None),
        ("0xzz", None),
        ("", None),
    ],
)
def test_literal_address(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert (str(found) if found else None) == address


def test_mapped_and_embedded_ipv4_are_judged_by_the_ipv4_address() -> None:
    policy = AddressPolicy.allowing(["10.1.0.0/16"])
    for text in ("::ffff:10.1.2.3", "10.1.2.3", "2002:a01:203::1", "64:ff9b::a01:203"):
        assert policy.refusal(ipaddress.ip_address(text)) is None, text
    for text in ("::ffff:10.2.0.1", "2002:a02:1::", "::ffff:169.254.169.254"):
        assert policy.refusal(ipaddress.ip_address(text)) is not None, text
    assert policy.refusal(ipaddress.ip_address("2606:4700::1111")) is None
    assert policy.refusal(ipaddress.ip_address("8.8.8.8")) is None
