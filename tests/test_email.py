"""Email through a real aiosmtpd server with STARTTLS (a trustme CA) and AUTH: headers,
both parts and their encodings, single alerts and digests, hostile text."""

from __future__ import annotations

import asyncio
import email.policy
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor import config
from monitor.deliver import build_channel
from monitor.errors import DeliveryError
from monitor.records import Alert, Outbound, RuleMatch
from tests.servers import free_port

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Server:
    def __init__(self, tmp_path: Path) -> None:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.messages: list[EmailMessage] = []
        self.logins: list[tuple[str, str]] = []
        self.port = free_port()
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            auth_require_tls=True,
            authenticator=self.authenticate,
        )

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            self.logins.append((login, password))
            return AuthResult(success=(login, password) == ("alerts", "s3cret"), handled=False)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


@pytest.fixture
def smtps(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path)
    server.controller.start()
    yield server
    server.controller.stop()


def channel(server: Server, **overrides: Any) -> config.EmailChannel:
    data = {
        "type": "email",
        "host": "127.0.0.1",
        "port": server.port,
        "security": "starttls",
        "username": "alerts",
        "password": "s3cret",
        "ca_file": str(server.ca_file),
        "from": "Новини <alerts@example.org>",
        "to": ["desk@example.org", "Ірина <iryna@example.org>"],
        **overrides,
    }
    cfg = config.validate({"channels": {"mail": data}}, source=Path("t.toml")).channels["mail"]
    assert isinstance(cfg, config.EmailChannel)
    return cfg


def alert(i: int, title: str, link: str | None = "https://example.org/a") -> Alert:
    return Alert(
        alert_id=f"00000000-0000-5000-8000-00000000000{i}",
        outbox_id=i,
        channel="mail",
        entry_id=f"e{i}",
        title=title,
        link=link,
        published=NOW,
        author="Олена",
        feed_url="https://example.org/feed",
        feed_name="Укрінформ",
        matches=(RuleMatch("dnipro", ("Dnipropetrovsk",), "title", title),),
        detected_at=NOW,
        attempts=0,
    )


def send(cfg: config.EmailChannel, message: Outbound) -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await build_channel("mail", cfg, client).send(message)

    asyncio.run(go())


def test_starttls_auth_and_a_cyrillic_alert(smtps: Server) -> None:
    a = alert(1, "Обстріл Дніпропетровської області")
    send(channel(smtps), Outbound("mail", a.alert_id, (a,)))
    assert smtps.logins == [("alerts", "s3cret")]
    (msg,) = smtps.messages
    assert str(msg["Subject"]) == "[dnipro] Обстріл Дніпропетровської області"
    assert msg["From"].addresses[0].display_name == "Новини"
    assert [x.addr_spec for x in msg["To"].addresses] == ["desk@example.org", "iryna@example.org"]
    assert msg["Message-ID"] == f"<{a.alert_id}@newsmonitor.invalid>"
    assert msg["Date"]
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert "Обстріл Дніпропетровської області" in text.get_content()
    assert (
        '<a href="https://example.org/a">Обстріл Дніпропетровської області</a>'
        in html.get_content()
    )
    assert "Укрінформ" in html.get_content()


def test_hostile_entry_cannot_inject_headers_or_markup(smtps: Server) -> None:
    a = alert(
        2, "Bad\r\nBcc: victim@example.org <script>alert(1)</script>", link="javascript:alert(1)"
    )
    send(channel(smtps), Outbound("mail", a.alert_id, (a,)))
    (msg,) = smtps.messages
    assert msg["Bcc"] is None
    assert "\n" not in str(msg["Subject"])
    html = msg.get_body(("html",))
    assert html is not None
    body = html.get_content()
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert 'href="javascript' not in body
    assert "<code>javascript:alert(1)</code>" in body


def test_a_digest_is_one_email_grouped_by_rule(smtps: Server) -> None:
    alerts = (alert(3, "Перша новина"), alert(4, "Друга новина"))
    send(channel(smtps), Outbound("mail", "digest-id", alerts, reason="digest"))
    (msg,) = smtps.messages
    assert str(msg["Subject"]) == "[dnipro] 2 new alerts (digest)"
    text = msg.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "== dnipro ==" in content
    assert content.index("Перша новина") < content.index("Друга новина")


def test_wrong_password_is_a_clear_failure(smtps: Server) -> None:
    a = alert(5, "x")
    with pytest.raises(DeliveryError) as caught:
        send(channel(smtps, password="wrong"), Outbound("mail", a.alert_id, (a,)))
    assert caught.value.reason.startswith(f"the mail server 127.0.0.1:{smtps.port} answered 535")
    assert caught.value.permanent
    assert smtps.messages == []


def test_an_untrusted_certificate_is_refused(smtps: Server) -> None:
    a = alert(6, "x")
    with pytest.raises(DeliveryError) as caught:
        send(channel(smtps, ca_file=None), Outbound("mail", a.alert_id, (a,)))
    assert "certificate verify failed" in caught.value.reason
    assert smtps.messages == []
