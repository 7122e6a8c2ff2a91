"""Chat channels against loopback servers that speak each service's HTTP contract.

Payloads are compared with golden files in tests/golden/chat (checked by hand against
each service's documentation). Set NEWSMONITOR_WRITE_GOLDEN=1 to rewrite them after a
deliberate change, then review the diff.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor import config
from monitor.deliver import build_channel
from monitor.errors import ConfigError, DeliveryError
from monitor.records import Outbound
from tests.chat_records import digest, hostile, single
from tests.servers import HTTPServer, Reply, Request, free_port

GOLDEN = Path(__file__).parent / "golden" / "chat"
WRITE_GOLDEN = os.environ.get("NEWSMONITOR_WRITE_GOLDEN") == "1"
TELEGRAM_TOKEN = "123456:AAE-secret-bot-token"
MATRIX_TOKEN = "syt_secret_access_token"
NTFY_TOKEN = "tk_secret_ntfy_token"
ROOM = "!newsroom:example.org"
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Service:
    """One service's loopback contract: where it listens and what it answers."""

    channel: Callable[[str, int], dict[str, Any]]  # base URL, port -> channel config
    path: Callable[[Outbound], str]
    ok: Reply
    method: str = "POST"


SERVICES: dict[str, Service] = {
    "slack": Service(
        lambda base, _: {"type": "slack", "url": f"{base}/services/T0/B0/x"},
        lambda _: "/services/T0/B0/x",
        Reply(200, b"ok", {"Content-Type": "text/plain"}),
    ),
    "discord": Service(
        lambda base, _: {"type": "discord", "url": f"{base}/api/webhooks/42/tok"},
        lambda _: "/api/webhooks/42/tok",
        Reply(204),
    ),
    "teams": Service(
        lambda base, _: {"type": "teams", "url": f"{base}/workflows/abc/triggers/manual/run"},
        lambda _: "/workflows/abc/triggers/manual/run",
        Reply(202),
    ),
    "mattermost": Service(
        lambda base, _: {"type": "mattermost", "url": f"{base}/hooks/xyz"},
        lambda _: "/hooks/xyz",
        Reply(200, b"ok", {"Content-Type": "text/plain"}),
    ),
    "telegram": Service(
        lambda base, _: {
            "type": "telegram",
            "token": TELEGRAM_TOKEN,
            "chat_id": -1001234567890,
            "api_url": base,
        },
        lambda _: f"/bot{TELEGRAM_TOKEN}/sendMessage",
        Reply(200, b'{"ok": true, "result": {"message_id": 1}}', JSON),
    ),
    "matrix": Service(
        lambda base, _: {
            "type": "matrix",
            "homeserver": base + "/",
            "access_token": MATRIX_TOKEN,
            "room_id": ROOM,
        },
        lambda m: (
            "/_matrix/client/v3/rooms/%21newsroom%3Aexample.org/send/m.room.message/"
            + m.delivery_id
        ),
        Reply(200, b'{"event_id": "$abc"}', JSON),
        method="PUT",
    ),
    "ntfy": Service(
        lambda base, _: {"type": "ntfy", "url": f"{base}/ntfy/alerts", "token": NTFY_TOKEN},
        lambda _: "/ntfy/",
        Reply(200, b'{"id": "x1", "event": "message"}', JSON),
    ),
    "apprise": Service(
        lambda _, port: {"type": "apprise", "url": f"json://127.0.0.1:{port}/apprise"},
        lambda _: "/apprise",
        Reply(200, b"{}", JSON),
    ),
}
NATIVE = [name for name in SERVICES if name != "apprise"]


def channel_config(name: str, server: HTTPServer, **extra: Any) -> config.ChannelConfig:
    cfg = {**SERVICES[name].channel(server.url(""), server.port), **extra}
    source = Path(str(extra.get("_source", "/nonexistent/config.toml")))
    cfg.pop("_source", None)
    return config.validate({"channels": {"chat": cfg}}, source=source).channels["chat"]


def send(cfg: config.ChannelConfig, message: Outbound) -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await build_channel("chat", cfg, client).send(message)

    asyncio.run(go())


def deliver(name: str, server: HTTPServer, message: Outbound, *replies: Reply) -> Request:
    """Send ``message`` through service ``name``; the one request the server got."""
    service = SERVICES[name]
    path = service.path(message)
    server.route(path, *(replies or (service.ok,)))
    send(channel_config(name, server), message)
    [request] = server.received(path, service.method)
    return request


def failure(name: str, server: HTTPServer, reply: Reply, **extra: Any) -> DeliveryError:
    service = SERVICES[name]
    message = single()
    server.route(service.path(message), reply)
    with pytest.raises(DeliveryError) as caught:
        send(channel_config(name, server, **extra), message)
    return caught.value


def assert_golden(name: str, data: Any) -> None:
    path = GOLDEN / f"{name}.json"
    if WRITE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert data == json.loads(path.read_text(encoding="utf-8")), f"differs from {path}"


class Tags(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [k for k, _ in attrs]
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


# -- payloads, exactly ---------------------------------------------------------------------


@pytest.mark.parametrize("case", ["single", "digest"])
@pytest.mark.parametrize("name", NATIVE)
def test_payload_matches_golden_file(http: HTTPServer, name: str, case: str) -> None:
    message = single() if case == "single" else digest()
    request = deliver(name, http, message)
    assert request.headers["content-type"] == "application/json"
    assert_golden(f"{name}-{case}", request.json())


def test_authorization_headers(http: HTTPServer) -> None:
    assert deliver("matrix", http, single()).headers["authorization"] == f"Bearer {MATRIX_TOKEN}"
    assert deliver("ntfy", http, single()).headers["authorization"] == f"Bearer {NTFY_TOKEN}"
    for name in ("slack", "discord", "teams", "mattermost", "telegram"):
        assert "authorization" not in deliver(name, http, single()).headers


def test_digest_is_grouped_by_rule(http: HTTPServer) -> None:
    text = deliver("mattermost", http, digest()).json()["text"]
    lines = text.splitlines()
    assert lines[0] == "#### 3 new alerts (digest)"
    ceasefire, energy = lines.index("**ceasefire**"), lines.index("**energy**")
    assert ceasefire < energy
    # The alert that matched both rules is listed under each.
    gas = [i for i, line in enumerate(lines) if "Gas prices" in line]
    assert len(gas) == 2 and ceasefire < gas[0] < energy < gas[1]
    assert "Pipeline maintenance ends early" in lines[-1]


# -- hostile feed text ---------------------------------------------------------------------


def no_injected_headers(request: Request) -> None:
    assert not {"x-injected", "x-evil"} & set(request.headers)


def test_hostile_slack(http: HTTPServer) -> None:
    request = deliver("slack", http, hostile())
    body = request.json()
    section = body["blocks"][0]["text"]["text"]
    for text in (section, body["text"]):
        assert "&lt;!channel&gt;" in text and "<!channel>" not in text
        assert "&lt;script&gt;" in text and "<script>" not in text
        assert "<javascript" not in text and "|" not in text.replace("&lt;", "")
        assert "\r" not in text
    assert section.splitlines()[0].endswith("@room*")  # CR/LF folded into the title line
    no_injected_headers(request)


def test_hostile_discord(http: HTTPServer) -> None:
    request = deliver("discord", http, hostile())
    body = request.json()
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert "url" not in embed
    text = embed["title"] + embed["description"]
    for mention in ("@everyone", "@here", "@room"):
        assert mention not in text
    assert "](javascript" not in text and "\\[x\\]\\(javascript" in embed["title"]
    assert "\\<script\\>" in embed["title"] and "\\*\\*bold\\*\\*" in embed["title"]
    no_injected_headers(request)


def test_hostile_teams(http: HTTPServer) -> None:
    request = deliver("teams", http, hostile())
    [attachment] = request.json()["attachments"]
    card = attachment["content"]
    assert "actions" not in card  # no Action.OpenUrl for javascript:
    text = json.dumps(card, ensure_ascii=False)
    assert "javascript" not in {a.get("url", "") for a in card.get("actions", [])}
    assert "](javascript" not in text and "@everyone" not in text
    no_injected_headers(request)


def test_hostile_mattermost(http: HTTPServer) -> None:
    request = deliver("mattermost", http, hostile())
    text = request.json()["text"]
    for mention in ("@everyone", "@here", "@channel", "@all"):
        assert mention not in text
        assert mention.replace("@", "@\u200b") in text
    assert "](javascript" not in text and "\\<script\\>" in text
    no_injected_headers(request)


def test_hostile_telegram(http: HTTPServer) -> None:
    request = deliver("telegram", http, hostile())
    body = request.json()
    text = body["text"]
    assert body["parse_mode"] == "HTML"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    parsed = Tags(text)
    assert set(parsed.tags) <= {"b", "i", "a", "code"}
    assert parsed.hrefs == [] and parsed.attrs == []
    for mention in ("@everyone", "@here", "@room"):
        assert mention not in text
    no_injected_headers(request)


def test_hostile_matrix(http: HTTPServer) -> None:
    request = deliver("matrix", http, hostile())
    content = request.json()
    assert content["m.mentions"] == {}  # so "@room" in the body highlights no one
    html = content["formatted_body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = Tags(html)
    allowed = {"h4", "p", "strong", "em", "code", "blockquote", "ul", "li", "a"}
    assert set(parsed.tags) <= allowed and "script" not in parsed.tags
    assert parsed.hrefs == [] and parsed.attrs == []
    assert "\r" not in content["body"]
    no_injected_headers(request)


def test_hostile_ntfy(http: HTTPServer) -> None:
    request = deliver("ntfy", http, hostile())
    body = request.json()
    assert "click" not in body
    assert "\r" not in body["title"] and "\n" not in body["title"]
    assert body["title"].startswith("@everyone <!channel> <script>")  # plain text, as is
    no_injected_headers(request)


def test_hostile_apprise(http: HTTPServer) -> None:
    request = deliver("apprise", http, hostile())
    body = request.json()
    text = body["title"] + body["message"]
    for mention in ("@everyone", "@here", "@room", "<!channel>"):
        assert mention not in text
    assert "@\u200beveryone" in text and "<!\u200bchannel>" in text
    # Plain text may name javascript:, but never as a markdown link Apprise would pass on.
    assert "](" not in text and "]\u200b(javascript" in text
    assert "\r" not in text and "\n" not in body["title"]
    no_injected_headers(request)


# -- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NATIVE)
def test_rate_limit_header_is_honoured(http: HTTPServer, name: str) -> None:
    error = failure(name, http, Reply(429, b"{}", {**JSON, "Retry-After": "7"}))
    assert error.retry_after == 7.0
    assert not error.permanent
    assert "HTTP 429" in error.reason


@pytest.mark.parametrize(
    ("name", "body", "seconds"),
    [
        (
            "discord",
            {"message": "You are being rate limited.", "retry_after": 1.5, "global": False},
            1.5,
        ),
        (
            "telegram",
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 12",
                "parameters": {"retry_after": 12},
            },
            12.0,
        ),
        (
            "matrix",
            {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 2500},
            2.5,
        ),
    ],
)
def test_rate_limit_in_body_is_honoured(
    http: HTTPServer, name: str, body: dict[str, Any], seconds: float
) -> None:
    error = failure(name, http, Reply(429, json.dumps(body).encode(), JSON))
    assert error.retry_after == seconds
    assert not error.permanent


def test_header_wins_over_body(http: HTTPServer) -> None:
    body = json.dumps({"retry_after": 99.0}).encode()
    error = failure("discord", http, Reply(429, body, {**JSON, "Retry-After": "3"}))
    assert error.retry_after == 3.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
@pytest.mark.parametrize("name", NATIVE)
def test_client_errors_are_permanent(http: HTTPServer, name: str, status: int) -> None:
    error = failure(name, http, Reply(status, b"{}", JSON))
    assert error.permanent and error.retry_after is None


@pytest.mark.parametrize("status", [408, 500, 502, 503])
@pytest.mark.parametrize("name", NATIVE)
def test_server_errors_are_retried(http: HTTPServer, name: str, status: int) -> None:
    error = failure(name, http, Reply(status, b"{}", JSON))
    assert not error.permanent and error.retry_after is None


@pytest.mark.parametrize(
    ("name", "body", "words"),
    [
        ("slack", b"channel_is_archived", "channel_is_archived"),
        ("discord", b'{"message": "Unknown Webhook", "code": 10015}', "Unknown Webhook"),
        (
            "teams",
            b'{"error": {"code": "TriggerDisabled", "message": "The flow is off."}}',
            "The flow is off.",
        ),
        (
            "mattermost",
            b'{"id": "web.incoming_webhook", "message": "Invalid webhook"}',
            "Invalid webhook",
        ),
        (
            "telegram",
            b'{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}',
            "chat not found",
        ),
        (
            "matrix",
            b'{"errcode": "M_FORBIDDEN", "error": "You are not in this room"}',
            "not in this room",
        ),
        ("ntfy", b'{"code": 40301, "http": 403, "error": "forbidden"}', "forbidden"),
    ],
)
def test_the_service_s_words_are_in_the_error(
    http: HTTPServer, name: str, body: bytes, words: str
) -> None:
    kind = "text/plain" if name == "slack" else "application/json"
    error = failure(name, http, Reply(403, body, {"Content-Type": kind}))
    assert words in error.reason
    assert len(error.reason.splitlines()) == 1


def test_telegram_token_never_in_errors(http: HTTPServer) -> None:
    body = b'{"ok": false, "error_code": 401, "description": "Unauthorized"}'
    error = failure("telegram", http, Reply(401, body, JSON))
    assert TELEGRAM_TOKEN not in str(error) and error.permanent
    closed = config.validate(
        {
            "channels": {
                "chat": {
                    "type": "telegram",
                    "token": TELEGRAM_TOKEN,
                    "chat_id": "@newsroom",
                    "api_url": f"http://127.0.0.1:{free_port()}",
                }
            }
        },
        source=Path("/nonexistent/config.toml"),
    ).channels["chat"]
    with pytest.raises(DeliveryError) as caught:
        send(closed, single())
    assert TELEGRAM_TOKEN not in str(caught.value) and "Telegram" in str(caught.value)


def test_timeout_is_the_channel_s(http: HTTPServer) -> None:
    http.route(SERVICES["slack"].path(single()), Reply(200, b"ok", delay=1.0))
    with pytest.raises(DeliveryError) as caught:
        send(channel_config("slack", http, timeout=0.2), single())
    assert "could not reach Slack" in str(caught.value) and not caught.value.permanent


# -- idempotency ---------------------------------------------------------------------------


def test_matrix_retry_reuses_the_transaction_id(http: HTTPServer) -> None:
    """A send whose answer is lost is repeated with the same transaction id, and the
    homeserver (here: a stub that deduplicates as the spec requires) keeps one event."""
    events: dict[str, dict[str, Any]] = {}

    def homeserver(request: Request) -> Reply:
        txn = request.path.rsplit("/", 1)[1]
        first = txn not in events
        events.setdefault(txn, request.json())
        answer = json.dumps({"event_id": f"$event-{txn}"}).encode()
        return Reply(200, answer, JSON, delay=1.0 if first else 0.0)  # first answer is lost

    message = single()
    path = SERVICES["matrix"].path(message)
    http.route(path, homeserver)
    cfg = channel_config("matrix", http, timeout=0.3)
    with pytest.raises(DeliveryError):
        send(cfg, message)
    send(cfg, message)
    requests = http.received(path, "PUT")
    assert len(requests) == 2
    assert {r.path for r in requests} == {path} and path.endswith(message.delivery_id)
    assert list(events) == [message.delivery_id]


# -- templates -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SERVICES))
def test_override_template_is_used(http: HTTPServer, tmp_path: Path, name: str) -> None:
    (tmp_path / "custom.j2").write_text(
        "Custom: {{ alert.title }}\n{{ count }} alert, {{ alert.rules }}, via the override\n",
        encoding="utf-8",
    )
    service = SERVICES[name]
    message = single()
    http.route(service.path(message), service.ok)
    cfg = channel_config(name, http, template="custom.j2", _source=tmp_path / "config.toml")
    send(cfg, message)
    [request] = http.received(service.path(message), service.method)
    text = json.dumps(request.json(), ensure_ascii=False)
    assert "Custom: Ceasefire talks resume in Geneva" in text
    assert "via the override" in text
    assert "World Desk" not in text or name == "matrix"  # Matrix overrides the HTML only


# -- Apprise -------------------------------------------------------------------------------


def test_apprise_sends_title_and_body(http: HTTPServer) -> None:
    request = deliver("apprise", http, single())
    body = request.json()
    assert body["title"] == "Ceasefire talks resume in Geneva"
    assert body["message"].startswith("World Desk · 2026-11-25 08:00 UTC · Anna Reporter\n")
    assert body["message"].endswith("\n\nhttps://news.example.org/world/1")
    assert body["type"] == "info"


def test_apprise_failure_is_one_sentence(http: HTTPServer) -> None:
    error = failure("apprise", http, Reply(500, b"{}", JSON))
    assert str(error) == (
        "the Apprise service did not accept the message (Apprise gives no reason)"
    )
    assert not error.permanent


def test_apprise_unknown_url_fails_at_build() -> None:
    cfg = config.validate(
        {"channels": {"chat": {"type": "apprise", "url": "nosuchservice://secret@host"}}},
        source=Path("/nonexistent/config.toml"),
    ).channels["chat"]
    with pytest.raises(ConfigError) as caught:
        build_channel("chat", cfg, httpx.AsyncClient())
    assert "secret" not in str(caught.value) and "channels.chat.url" in str(caught.value)


def test_every_chat_type_has_a_sender(http: HTTPServer) -> None:
    names = {}
    for name in SERVICES:
        channel = build_channel("chat", channel_config(name, http), httpx.AsyncClient())
        kind = type(channel).__name__
        names[name] = getattr(getattr(channel, "service", None), "label", kind)
        assert channel.name == "chat"
    assert names == {
        "slack": "Slack",
        "discord": "Discord",
        "teams": "Microsoft Teams",
        "mattermost": "Mattermost",
        "telegram": "TelegramSender",
        "matrix": "MatrixSender",
        "ntfy": "NtfySender",
        "apprise": "AppriseSender",
    }
