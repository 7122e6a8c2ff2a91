"""Per-feed fetch options, as the server sees them: headers, basic auth, User-Agent,
timeout, TLS verification; and the same options from a config file through a poll."""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner

from monitor import config
from monitor.cli import cli
from monitor.connections import Connections
from monitor.daemon import Daemon
from monitor.errors import FetchError
from monitor.fetch import Fetcher, FetchLimits
from monitor.netguard import AddressPolicy
from monitor.records import FetchOptions, FetchResult
from monitor.store.db import open_database
from tests.helpers import write_config
from tests.servers import FEEDS, HTTPServer, Reply

BODY = (FEEDS / "world.rss").read_bytes()
LOOPBACK = AddressPolicy.allowing(["127.0.0.1", "localhost"])


def fetch(url: str, options: FetchOptions, deadline: float = 10.0) -> FetchResult:
    async def run() -> FetchResult:
        limits = FetchLimits(deadline=deadline)
        async with Fetcher(Connections(2), limits, LOOPBACK, "site-wide/1.0") as fetcher:
            return await fetcher.fetch(url, options=options)

    return asyncio.run(run())


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_headers_auth_and_user_agent_reach_the_server(http: HTTPServer) -> None:
    url = http.route("/feed", Reply(body=BODY))
    options = FetchOptions(
        headers=(("X-Api-Key", "k-123"), ("Accept-Language", "uk")),
        username="reader",
        password="пароль",
        user_agent="FeedReader/2.0",
    )
    assert fetch(url, options).body == BODY
    (request,) = http.received("/feed", "GET")
    assert request.headers["x-api-key"] == "k-123"
    assert request.headers["accept-language"] == "uk"
    assert request.headers["authorization"] == basic("reader", "пароль")
    assert request.headers["user-agent"] == "FeedReader/2.0"


def test_without_options_the_site_wide_user_agent_is_sent(http: HTTPServer) -> None:
    url = http.route("/feed", Reply(body=BODY))
    fetch(url, FetchOptions())
    (request,) = http.received("/feed", "GET")
    assert request.headers["user-agent"] == "site-wide/1.0"
    assert "authorization" not in request.headers


def test_credentials_in_the_url_are_basic_auth(http: HTTPServer) -> None:
    http.route("/feed", Reply(body=BODY))
    fetch(f"http://me:secret@127.0.0.1:{http.port}/feed", FetchOptions())
    (request,) = http.received("/feed", "GET")
    assert request.headers["authorization"] == basic("me", "secret")


def test_credentials_and_headers_stay_on_the_feeds_own_site(http: HTTPServer) -> None:
    # 127.0.0.1 and localhost are different hosts: a redirect from one to the other
    # takes the User-Agent along, but not the password or the feed's own headers.
    http.route("/feed", Reply(status=302, headers={"Location": "/moved"}))
    http.route("/moved", Reply(status=301, headers={"Location": f"http://localhost:{http.port}/x"}))
    http.route("/x", Reply(body=BODY))
    options = FetchOptions(
        headers=(("X-Api-Key", "k"),), username="u", password="p", user_agent="UA/1"
    )
    assert fetch(http.url("/feed"), options).body == BODY
    same_site = http.received("/moved", "GET")[0].headers
    assert same_site["authorization"] == basic("u", "p")
    assert same_site["x-api-key"] == "k"
    other_site = http.received("/x", "GET")[0].headers
    assert "authorization" not in other_site
    assert "x-api-key" not in other_site
    assert other_site["user-agent"] == "UA/1"


def test_a_feeds_timeout_replaces_the_deadline(http: HTTPServer) -> None:
    url = http.route("/slow", Reply(body=BODY, delay=3.0))
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch(url, FetchOptions(timeout=0.5), deadline=30.0)
    assert time.monotonic() - started < 2.5
    assert str(info.value) == "the fetch took longer than 0.5 seconds"


@pytest.fixture(scope="module")
def tls_server_context() -> ssl.SSLContext:
    """A certificate for 127.0.0.1 from a CA nobody trusts."""
    cert = trustme.CA().issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.fixture
def https(tls_server_context: ssl.SSLContext) -> Iterator[HTTPServer]:
    server = HTTPServer(tls=tls_server_context).start()
    yield server
    server.stop()


def test_tls_is_verified_by_default(https: HTTPServer) -> None:
    url = https.route("/feed", Reply(body=BODY))
    with pytest.raises(FetchError) as info:
        fetch(url, FetchOptions())
    assert str(info.value).startswith("could not connect (")
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    assert https.received("/feed", "GET") == []


def test_verify_tls_false_fetches_from_an_untrusted_certificate(https: HTTPServer) -> None:
    url = https.route("/feed", Reply(body=BODY))
    assert fetch(url, FetchOptions(verify_tls=False)).body == BODY
    # Through the name too: TLS still speaks to the host by name over the checked address.
    https.route("/named", Reply(body=BODY))
    named = f"https://localhost:{https.port}/named"
    assert fetch(named, FetchOptions(verify_tls=False)).body == BODY


# -- from the config file -----------------------------------------------------------------


def test_feed_options_from_the_config_reach_the_server(
    tmp_path: Path, http: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_PASSWORD", "s3cret")
    url = http.feed("/world.rss", "world.rss")
    path = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        feeds=[
            {
                "url": url,
                "headers": {"X-Team": "desk"},
                "username": "reader",
                "password": "${FEED_PASSWORD}",
                "user_agent": "NewsDesk/3",
                "timeout": "20s",
            }
        ],
        rules=[{"name": "ceasefire", "keywords": ["ceasefire"]}],
    )
    result = CliRunner().invoke(cli, ["poll", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "polled 1 feed" in result.output
    (request,) = http.received("/world.rss", "GET")
    assert request.headers["x-team"] == "desk"
    assert request.headers["authorization"] == basic("reader", "s3cret")
    assert request.headers["user-agent"] == "NewsDesk/3"


def test_without_allow_a_poll_refuses_loopback_feeds(tmp_path: Path, http: HTTPServer) -> None:
    url = http.feed("/world.rss", "world.rss")
    path = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        feeds=[{"url": url}],
        rules=[{"name": "ceasefire", "keywords": ["ceasefire"]}],
        network={"concurrency": 4},
    )
    result = CliRunner().invoke(cli, ["poll", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        f"failed: {url}: refused to connect to 127.0.0.1 (a loopback address);"
        " add it to [network] allow to fetch from it"
    ) in result.output
    assert http.received("/world.rss", "GET") == []


def test_verify_tls_false_is_warned_about_once_per_feed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config.validate(
        {
            "feeds": [
                {"url": "https://a.example/feed", "verify_tls": False},
                {"url": "https://b.example/feed"},
                {"url": "https://c.example/feed", "verify_tls": False},
            ]
        },
        source=tmp_path / "config.toml",
    )
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with caplog.at_level(logging.WARNING, logger="monitor.daemon"):
            Daemon(cfg, db)
    finally:
        db.close()
    warnings = [r.getMessage() for r in caplog.records if "verify_tls" in r.getMessage()]
    assert warnings == [
        "feed https://a.example/feed: its TLS certificate is not verified (verify_tls = false)",
        "feed https://c.example/feed: its TLS certificate is not verified (verify_tls = false)",
    ]


@pytest.mark.parametrize(
    ("feed", "words"),
    [
        ({"password": "x"}, "feeds[0]: a password needs a username"),
        ({"headers": {"Host": "x"}}, "the Host header is set by newsmonitor itself"),
        ({"headers": {"Bad Name": "x"}}, "'Bad Name' is not an HTTP header name"),
        ({"headers": {"X-A": "a\r\nB: c"}}, "feeds[0].headers.X-A: must be one line"),
        ({"proxy": "socks5://127.0.0.1:1080"}, "feeds[0].proxy:"),
        ({"timeout": "0s"}, "feeds[0].timeout: must be longer than zero"),
        ({"verify_tls": "maybe"}, "feeds[0].verify_tls:"),
        ({"user_agent": "a\nb"}, "feeds[0].user_agent: must be one line"),
    ],
)
def test_bad_feed_options_fail_at_load(feed: dict[str, object], words: str) -> None:
    with pytest.raises(config.ConfigError) as info:
        config.validate({"feeds": [{"url": "http://a.example/", **feed}]}, source=Path("c.toml"))
    assert words in str(info.value)
