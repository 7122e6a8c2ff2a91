"""Fetcher against a real HTTP server on 127.0.0.1: validators, errors, deadline, size cap."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import time
import tracemalloc
import zlib

import brotli
import pytest

from monitor.connections import Connections
from monitor.errors import FetchError
from monitor.fetch import Fetcher, FetchLimits
from monitor.netguard import AddressPolicy
from monitor.records import FetchResult
from tests.servers import FEEDS, HTTPServer, Reply, Request, free_port

BODY = (FEEDS / "world.rss").read_bytes()
LAST_MODIFIED = "Wed, 25 Nov 2026 08:00:00 GMT"


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    deadline: float = 10.0,
    max_body: int = 10 * 1024 * 1024,
) -> FetchResult:
    async def run() -> FetchResult:
        limits = FetchLimits(deadline=deadline, max_body=max_body)
        policy = AddressPolicy.allowing(["127.0.0.1"])
        async with Fetcher(Connections(4), limits, policy) as fetcher:
            return await fetcher.fetch(url, etag=etag, last_modified=last_modified)

    return asyncio.run(run())


def fetch_error(url: str, **kwargs: float | int) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, **kwargs)  # type: ignore[arg-type]
    error = info.value
    assert error.url == url
    text = str(error)
    assert text == error.reason
    assert text.strip() and "\n" not in text and "\r" not in text
    return error


def test_ok_body_with_validators_and_user_agent(http: HTTPServer) -> None:
    url = http.route(
        "/feed",
        Reply(
            body=BODY,
            headers={
                "Content-Type": "application/rss+xml",
                "ETag": '"v1"',
                "Last-Modified": LAST_MODIFIED,
            },
        ),
    )
    result = fetch(url)
    assert result.url == url
    assert result.not_modified is False
    assert result.body == BODY
    assert result.etag == '"v1"'
    assert result.last_modified == LAST_MODIFIED
    assert result.content_type == "application/rss+xml"

    (request,) = http.received("/feed", "GET")
    assert request.headers["user-agent"].startswith("newsmonitor/")
    # A first fetch is unconditional.
    assert "if-none-match" not in request.headers
    assert "if-modified-since" not in request.headers


def test_etag_gives_not_modified(http: HTTPServer) -> None:
    url = http.route("/feed", Reply(body=BODY, headers={"ETag": '"v1"'}))
    first = fetch(url)
    assert first.etag == '"v1"'
    second = fetch(url, etag=first.etag)
    assert second.not_modified is True
    assert second.body == b""
    assert second.etag == '"v1"'
    requests = http.received("/feed", "GET")
    assert len(requests) == 2
    assert requests[1].headers["if-none-match"] == '"v1"'
    # A changed ETag on the server means a full body again.
    http.route("/feed", Reply(body=BODY + b"\n", headers={"ETag": '"v2"'}))
    third = fetch(url, etag='"v1"')
    assert third.not_modified is False
    assert third.body == BODY + b"\n"
    assert third.etag == '"v2"'


def test_last_modified_gives_not_modified(http: HTTPServer) -> None:
    def answer(req: Request) -> Reply:
        if req.headers.get("if-modified-since") == LAST_MODIFIED:
            return Reply(status=304, headers={"Last-Modified": LAST_MODIFIED})
        return Reply(body=BODY, headers={"Last-Modified": LAST_MODIFIED})

    url = http.route("/feed", answer)
    first = fetch(url)
    assert first.not_modified is False
    assert first.last_modified == LAST_MODIFIED
    second = fetch(url, last_modified=first.last_modified)
    assert second.not_modified is True
    assert second.body == b""
    assert second.last_modified == LAST_MODIFIED
    requests = http.received("/feed", "GET")
    assert requests[-1].headers["if-modified-since"] == LAST_MODIFIED
    assert "if-none-match" not in requests[-1].headers


def test_both_validators_are_sent(http: HTTPServer) -> None:
    url = http.route("/feed", Reply(body=BODY))
    fetch(url, etag='"abc"', last_modified=LAST_MODIFIED)
    (request,) = http.received("/feed", "GET")
    assert request.headers["if-none-match"] == '"abc"'
    assert request.headers["if-modified-since"] == LAST_MODIFIED


@pytest.mark.parametrize("status", [404, 500, 403, 410])
def test_http_error_status(http: HTTPServer, status: int) -> None:
    url = http.route("/feed", Reply(status=status, body=b"<html>nope</html>"))
    error = fetch_error(url)
    assert f"HTTP {status}" in str(error)
    assert "nope" not in str(error)


def test_unrouted_path_is_404(http: HTTPServer) -> None:
    error = fetch_error(http.url("/missing"))
    assert "404" in str(error)


def test_redirect_is_followed(http: HTTPServer) -> None:
    http.route("/old", Reply(status=301, headers={"Location": "/new"}))
    http.route("/new", Reply(body=BODY))
    result = fetch(http.url("/old"))
    assert result.body == BODY


def test_redirect_loop_is_an_error(http: HTTPServer) -> None:
    url = http.route("/loop", Reply(status=302, headers={"Location": "/loop"}))
    error = fetch_error(url)
    assert "redirect" in str(error)


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}/feed"
    error = fetch_error(url)
    assert "connect" in str(error)


def test_slow_reply_is_cut_by_deadline(http: HTTPServer) -> None:
    url = http.route("/slow", Reply(body=BODY, delay=5.0))
    started = time.monotonic()
    error = fetch_error(url, deadline=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 4.0
    assert "1 second" in str(error)


def test_trickling_body_is_cut_by_deadline(http: HTTPServer) -> None:
    # 200 bytes at 0.1 s each would take 20 s; each single read is quick, so only an
    # overall deadline stops it.
    url = http.route("/trickle", Reply(body=b"x" * 200, trickle=0.1))
    started = time.monotonic()
    error = fetch_error(url, deadline=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 10.0
    assert "longer than 1 second" in str(error)


def test_body_over_limit(http: HTTPServer) -> None:
    url = http.route("/big", Reply(body=b"x" * 5000))
    error = fetch_error(url, max_body=4096)
    assert "4096" in str(error)
    # Exactly at the limit is fine.
    http.route("/exact", Reply(body=b"y" * 4096))
    assert fetch(http.url("/exact"), max_body=4096).body == b"y" * 4096


def test_gzip_body_is_decoded(http: HTTPServer) -> None:
    url = http.route("/gz", Reply(body=gzip.compress(BODY), headers={"Content-Encoding": "gzip"}))
    assert fetch(url).body == BODY
    (request,) = http.received("/gz", "GET")
    assert "gzip" in request.headers["accept-encoding"]


def test_decoded_size_is_what_counts(http: HTTPServer) -> None:
    # 20 kB of text compresses to far less than the cap, but decodes to more.
    plain = b"ceasefire " * 2000
    url = http.route("/gz", Reply(body=gzip.compress(plain), headers={"Content-Encoding": "gzip"}))
    error = fetch_error(url, max_body=8192)
    assert "8192" in str(error)


def test_gzip_bomb_is_refused_without_inflating_it(http: HTTPServer) -> None:
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(squeezer.compress(chunk) for _ in range(50)) + squeezer.flush()
    assert len(bomb) < 200_000  # 50 MiB of zeros
    url = http.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        error = fetch_error(url, max_body=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "1048576" in str(error)
    # Inflating the whole body would take 50 MiB; the cap keeps it near 1 MiB.
    assert peak < 12 * 1024 * 1024


def test_corrupt_gzip_is_an_error(http: HTTPServer) -> None:
    body = gzip.compress(BODY)
    broken = body[:10] + bytes(b ^ 0x55 for b in body[10:40]) + body[40:]
    url = http.route("/gz", Reply(body=broken, headers={"Content-Encoding": "gzip"}))
    error = fetch_error(url)
    assert "corrupt" in str(error)


def test_zlib_wrapped_deflate_is_decoded(http: HTTPServer) -> None:
    url = http.route("/z", Reply(body=zlib.compress(BODY), headers={"Content-Encoding": "deflate"}))
    assert fetch(url).body == BODY


def test_raw_deflate_is_decoded(http: HTTPServer) -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = raw.compress(BODY) + raw.flush()
    url = http.route("/raw", Reply(body=body, headers={"Content-Encoding": "deflate"}))
    assert fetch(url).body == BODY


def test_identity_encoding_is_plain(http: HTTPServer) -> None:
    url = http.route("/id", Reply(body=BODY, headers={"Content-Encoding": "identity"}))
    assert fetch(url).body == BODY


@pytest.mark.parametrize("encoding", ["compress", "zstd", "gzip, br"])
def test_unknown_encoding_is_a_clear_error(http: HTTPServer, encoding: str) -> None:
    url = http.route("/enc", Reply(body=b"\x00\x01\x02", headers={"Content-Encoding": encoding}))
    error = fetch_error(url)
    assert "encoding" in str(error)
    assert encoding in str(error)


# -- redirects ----------------------------------------------------------------------------


def test_relative_redirects_are_resolved_against_the_hop(http: HTTPServer) -> None:
    http.route("/a/feed", Reply(status=302, headers={"Location": "next"}))
    http.route("/a/next", Reply(status=307, headers={"Location": "../b/final?x=1#top"}))
    http.route("/b/final", Reply(body=BODY))
    result = fetch(http.url("/a/feed"))
    assert result.body == BODY
    assert result.url == http.url("/a/feed")
    assert result.final_url == http.url("/b/final?x=1")
    assert result.permanent_redirect is False
    assert len(http.received("/b/final?x=1", "GET")) == 1


@pytest.mark.parametrize(
    ("statuses", "permanent"),
    [((301,), True), ((308, 301), True), ((301, 302), False), ((303,), False)],
)
def test_permanent_redirects_are_reported(
    http: HTTPServer, statuses: tuple[int, ...], permanent: bool
) -> None:
    for i, status in enumerate(statuses):
        http.route(f"/hop{i}", Reply(status=status, headers={"Location": f"/hop{i + 1}"}))
    http.route(f"/hop{len(statuses)}", Reply(body=BODY, headers={"ETag": '"e"'}))
    result = fetch(http.url("/hop0"))
    assert result.final_url == http.url(f"/hop{len(statuses)}")
    assert result.permanent_redirect is permanent
    # Also on a 304 at the end of the redirects.
    again = fetch(http.url("/hop0"), etag='"e"')
    assert again.not_modified is True
    assert again.permanent_redirect is permanent


def test_no_redirect_means_no_final_url(http: HTTPServer) -> None:
    result = fetch(http.route("/feed", Reply(body=BODY)))
    assert result.final_url is None
    assert result.permanent_redirect is False


def test_redirect_loop_is_detected_before_the_limit(http: HTTPServer) -> None:
    http.route("/a", Reply(status=302, headers={"Location": "/b"}))
    http.route("/b", Reply(status=302, headers={"Location": "/a"}))
    error = fetch_error(http.url("/a"))
    assert str(error) == f"the redirects go round in a loop (back to {http.url('/a')})"
    assert len(http.received("/a", "GET")) == 1


def test_ten_redirects_are_followed_and_eleven_are_too_many(http: HTTPServer) -> None:
    for i in range(11):
        http.route(f"/r{i}", Reply(status=302, headers={"Location": f"/r{i + 1}"}))
    http.route("/r11", Reply(body=BODY))
    assert fetch(http.url("/r1")).body == BODY  # ten hops
    error = fetch_error(http.url("/r0"))
    assert str(error) == "more than 10 redirects"


@pytest.mark.parametrize(
    ("location", "words"),
    [(None, "without a Location"), ("ftp://127.0.0.1/feed", "not an http(s) URL")],
)
def test_unusable_redirects(http: HTTPServer, location: str | None, words: str) -> None:
    headers = {"Location": location} if location else {}
    error = fetch_error(http.route("/feed", Reply(status=301, headers=headers)))
    assert words in str(error)


# -- brotli and the body hash -------------------------------------------------------------


def test_brotli_body_is_decoded(http: HTTPServer) -> None:
    url = http.route("/br", Reply(body=brotli.compress(BODY), headers={"Content-Encoding": "br"}))
    assert fetch(url).body == BODY
    (request,) = http.received("/br", "GET")
    assert request.headers["accept-encoding"] == "gzip, deflate, br"


def test_brotli_bomb_is_refused_without_inflating_it(http: HTTPServer) -> None:
    bomb = brotli.compress(bytes(200 * 1024 * 1024), quality=5)
    assert len(bomb) < 10_000  # 200 MiB of zeros
    url = http.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "br"}))
    tracemalloc.start()
    try:
        error = fetch_error(url, max_body=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "1048576" in str(error)
    assert peak < 12 * 1024 * 1024


def test_brotli_decoded_size_is_what_counts(http: HTTPServer) -> None:
    plain = b"ceasefire " * 2000
    url = http.route("/br", Reply(body=brotli.compress(plain), headers={"Content-Encoding": "br"}))
    assert "8192" in str(fetch_error(url, max_body=8192))
    assert fetch(url, max_body=len(plain)).body == plain


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_brotli_is_an_error(http: HTTPServer, damage: str) -> None:
    body = brotli.compress(BODY)
    body = body[: len(body) // 2] if damage == "truncated" else b"\xff" * 50
    url = http.route("/br", Reply(body=body, headers={"Content-Encoding": "br"}))
    assert str(fetch_error(url)) == "the compressed body is corrupt"


def test_body_hash_is_the_sha256_of_the_decoded_body(http: HTTPServer) -> None:
    plain = http.route("/plain", Reply(body=BODY))
    packed = http.route(
        "/gz", Reply(body=gzip.compress(BODY), headers={"Content-Encoding": "gzip"})
    )
    expected = hashlib.sha256(BODY).hexdigest()
    assert fetch(plain).body_hash == expected
    assert fetch(packed).body_hash == expected
    http.route("/etag", Reply(body=BODY, headers={"ETag": '"x"'}))
    assert fetch(http.url("/etag"), etag='"x"').body_hash is None


def test_connections_are_kept_per_host_and_idle_hosts_pools_closed() -> None:
    servers = [HTTPServer().start() for _ in range(6)]
    try:
        urls = [server.feed("/feed", "world.rss") for server in servers]

        async def run() -> list[int]:
            connections = Connections(1, per_host=2)  # keeps IDLE_POOLS (4) idle pools
            policy = AddressPolicy.allowing(["127.0.0.1"])
            async with Fetcher(connections, FetchLimits(), policy) as fetcher:
                for _ in range(3):
                    await fetcher.fetch(urls[0])
                open_pools = []
                for url in urls[1:]:
                    await fetcher.fetch(url)
                    open_pools.append(connections.open_pools)
                await fetcher.fetch(urls[0])  # its pool was the least recently used
            return open_pools

        open_pools = asyncio.run(run())
        assert open_pools == [2, 3, 4, 4, 4]
        first = servers[0].received("/feed", "GET")
        # Three fetches on one kept-alive connection, then a new one once its pool closed.
        assert len({r.client_port for r in first[:3]}) == 1
        assert first[3].client_port != first[0].client_port
    finally:
        for server in servers:
            server.stop()


def test_a_304_leaves_its_connection_open_for_the_next_fetch(http: HTTPServer) -> None:
    url = http.feed("/feed", "world.rss", ETag='"v1"')

    async def run() -> list[bool]:
        policy = AddressPolicy.allowing(["127.0.0.1"])
        async with Fetcher(Connections(2), FetchLimits(), policy) as fetcher:
            return [(await fetcher.fetch(url, etag='"v1"')).not_modified for _ in range(3)]

    assert asyncio.run(run()) == [True, True, True]
    ports = {r.client_port for r in http.received("/feed", "GET")}
    assert len(ports) == 1
