"""Rendering alerts (email and webhook JSON) and routing them to channels."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from monitor.deliver import render
from monitor.deliver.render import sign
from monitor.deliver.routing import alert_id, channels_for
from monitor.records import Alert, Outbound, RuleMatch
from tests.chat_records import make_alert as sample_alert


def email_message(alert: Alert, *args: object) -> EmailMessage:
    """One alert on its own, as the worker sends it."""
    return render.email_message(Outbound(alert.channel, alert.alert_id, (alert,)), *args)  # type: ignore[arg-type]


def webhook_payload(alert: Alert) -> dict[str, object]:
    return render.webhook_payload(Outbound(alert.channel, alert.alert_id, (alert,)))


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SENDER = "newsmonitor <alerts@example.org>"
RECIPIENTS = ("desk@example.org", "night@example.org")
HOSTILE = "Hi\r\nBcc: victim@example.net\r\n\r\n<script>alert(1)</script> & more"


def make_alert(**changes: object) -> Alert:
    """The shared sample alert (tests/chat_records.py), as sent to an email channel."""
    defaults: dict[str, object] = {
        "alert_id": alert_id("http://127.0.0.1/world.rss", "world-1", "mail"),
        "channel": "mail",
        "link": "http://127.0.0.1/world/1",
        "feed_url": "http://127.0.0.1/world.rss",
    }
    return sample_alert(**{**defaults, **changes})


def round_trip(alert: Alert) -> tuple[bytes, EmailMessage]:
    raw = email_message(alert, SENDER, RECIPIENTS, NOW).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return raw, parsed


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(("plain",))
    rich = msg.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


class Anchors(HTMLParser):
    """Collects every attribute of every element, and the text of <code> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: list[tuple[str, str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]


def html_structure(markup: str) -> Anchors:
    parser = Anchors()
    parser.feed(markup)
    parser.close()
    return parser


HEADERS = {"Subject", "From", "To", "Date", "Message-ID", "X-Newsmonitor-Alert-Id"}


# -- email ----------------------------------------------------------------------------------


def test_plain_alert_email() -> None:
    alert = make_alert()
    raw, msg = round_trip(alert)
    assert raw.isascii()
    assert set(msg.keys()) >= HEADERS
    assert str(msg["Subject"]) == "[ceasefire] Ceasefire talks resume in Geneva"
    assert str(msg["From"]) == SENDER
    assert [a.addr_spec for a in msg["To"].addresses] == list(RECIPIENTS)
    assert msg["Date"].datetime == NOW
    assert msg["X-Newsmonitor-Alert-Id"] == alert.alert_id
    assert msg.is_multipart()
    plain, rich = parts(msg)
    for body in (plain, rich):
        assert "Ceasefire talks resume in Geneva" in body
        assert "World Desk" in body
        assert "2026-11-25 08:00 UTC" in body
        assert "Anna Reporter" in body
        assert "ceasefire, peace talks" in body
        assert "discuss a ceasefire along the front line" in body
        assert alert.alert_id in body
    assert "Link: http://127.0.0.1/world/1" in plain
    hrefs = [v for tag, k, v in html_structure(rich).attrs if tag == "a" and k == "href"]
    assert hrefs == ["http://127.0.0.1/world/1"]


def test_hostile_title_adds_no_headers() -> None:
    alert = make_alert(title=HOSTILE, author="Eve\r\nX-Evil: 1", feed_name="Feed\nCc: a@b.c")
    raw, msg = round_trip(alert)
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    names = {line.split(b":", 1)[0] for line in head.splitlines() if line[:1] not in b" \t"}
    assert names == {n.encode() for n in HEADERS} | {b"MIME-Version", b"Content-Type"}
    assert set(msg.keys()) == HEADERS | {"MIME-Version", "Content-Type"}
    assert msg["Bcc"] is None and msg["X-Evil"] is None and msg["Cc"] is None
    # The stdlib folds some subjects right after "Subject:", which reads back with a
    # leading space; the text itself is what matters here.
    subject = str(msg["Subject"]).strip()
    assert "\r" not in subject and "\n" not in subject
    assert subject == ("[ceasefire] Hi Bcc: victim@example.net <script>alert(1)</script> & more")


def test_hostile_text_is_escaped_in_html() -> None:
    hostile_match = RuleMatch(
        rule="r<i>", terms=("<b>x</b>",), field="title", snippet="<img src=x onerror=alert(1)>"
    )
    alert = make_alert(
        title=HOSTILE,
        author="<u>Eve</u>",
        feed_name="<svg onload=alert(2)>",
        matches=(hostile_match,),
    )
    _, msg = round_trip(alert)
    plain, rich = parts(msg)
    assert "<script>" not in rich
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rich
    assert "&amp; more" in rich
    structure = html_structure(rich)
    # Only the template's own elements: nothing from the alert became markup.
    assert set(structure.tags) <= {"html", "head", "meta", "title", "body", "h2", "a", "p"} | {
        "strong",
        "em",
        "blockquote",
        "code",
    }
    assert not any(k.startswith("on") for _, k, _ in structure.attrs)
    # The plain part shows the text as it is.
    assert "<img src=x onerror=alert(1)>" in plain


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "  javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
    ],
)
def test_unsafe_link_is_never_an_href(link: str) -> None:
    _, msg = round_trip(make_alert(link=link))
    _, rich = parts(msg)
    structure = html_structure(rich)
    hrefs = [v for _, k, v in structure.attrs if k in ("href", "src")]
    assert hrefs == []
    assert "code" in structure.tags  # shown as text instead
    assert "<script>" not in rich


def test_link_cannot_break_out_of_the_href() -> None:
    link = 'http://example.org/"><script>alert(1)</script><a x="'
    _, msg = round_trip(make_alert(link=link))
    _, rich = parts(msg)
    structure = html_structure(rich)
    anchors = [(k, v) for tag, k, v in structure.attrs if tag == "a"]
    assert anchors == [("href", link)]
    assert "script" not in structure.tags


def test_no_link_at_all() -> None:
    _, msg = round_trip(make_alert(link=None))
    plain, rich = parts(msg)
    assert "Link" not in plain
    assert "href" not in rich


def test_cyrillic_subject_round_trips() -> None:
    title = "Обстріл у Дніпропетровській області: «перемир'я» порушено"
    alert = make_alert(
        title=title, matches=(dataclasses.replace(make_alert().matches[0], rule="дніпро"),)
    )
    raw, msg = round_trip(alert)
    assert raw.isascii()
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in head.lower()
    assert str(msg["Subject"]) == f"[дніпро] {title}"
    plain, rich = parts(msg)
    assert title in plain
    assert "Обстріл" in rich


def test_long_subject_is_one_line_and_cut() -> None:
    title = "Довга новина " * 40
    _, msg = round_trip(make_alert(title=title))
    subject = str(msg["Subject"])
    assert "\n" not in subject
    assert subject.startswith("[ceasefire] Довга новина")
    assert len(subject) <= 250
    assert subject.endswith("…")


def test_untitled_entry() -> None:
    _, msg = round_trip(make_alert(title=""))
    assert str(msg["Subject"]) == "[ceasefire] (untitled entry)"


def test_message_id_derives_from_alert_id_and_is_stable() -> None:
    alert = make_alert()
    first = email_message(alert, SENDER, RECIPIENTS, NOW)
    later = email_message(alert, SENDER, RECIPIENTS, datetime(2027, 1, 1, tzinfo=UTC))
    assert first["Message-ID"] == later["Message-ID"]
    assert first["Message-ID"] == f"<{alert.alert_id}@newsmonitor.invalid>"
    other = make_alert(alert_id=alert_id("http://127.0.0.1/world.rss", "world-2", "mail"))
    assert email_message(other, SENDER, RECIPIENTS, NOW)["Message-ID"] != first["Message-ID"]


def test_several_rules_in_one_message() -> None:
    second = RuleMatch(rule="dnipro", terms=("Dnipropetrovsk",), field="title", snippet="Dnipro…")
    alert = make_alert(matches=(*make_alert().matches, second))
    _, msg = round_trip(alert)
    assert str(msg["Subject"]).startswith("[ceasefire, dnipro] ")
    plain, _ = parts(msg)
    assert "Rule ceasefire matched" in plain and "Rule dnipro matched Dnipropetrovsk" in plain


# -- webhook --------------------------------------------------------------------------------


def test_webhook_payload_has_exactly_the_documented_keys() -> None:
    alert = make_alert()
    payload = webhook_payload(alert)
    # The pipeline issue's fields, plus "type" (added by the delivery issue; never renamed).
    assert set(payload) == {"id", "type", "entry", "feed", "matches", "detected_at"}
    assert payload["type"] == "hit"
    assert payload["id"] == alert.alert_id
    assert payload["entry"] == {
        "id": "world-1",
        "title": "Ceasefire talks resume in Geneva",
        "link": "http://127.0.0.1/world/1",
        "published": "2026-11-25T08:00:00+00:00",
        "author": "Anna Reporter",
    }
    assert payload["feed"] == {"url": "http://127.0.0.1/world.rss", "name": "World Desk"}
    (m,) = payload["matches"]
    assert {"rule", "terms", "snippet"} <= set(m)
    assert m["rule"] == "ceasefire"
    assert m["terms"] == ["ceasefire", "peace talks"]
    assert m["snippet"] == "…discuss a ceasefire along the front line…"
    assert m["field"] == "summary"
    assert datetime.fromisoformat(payload["detected_at"]) == alert.detected_at
    assert payload["detected_at"].endswith("+00:00")
    # It is plain JSON, and survives a round trip unchanged.
    assert json.loads(json.dumps(payload)) == payload


def test_webhook_payload_with_missing_fields() -> None:
    payload = webhook_payload(make_alert(published=None, author=None, link=None, title=HOSTILE))
    assert payload["entry"]["published"] is None
    assert payload["entry"]["author"] is None
    assert payload["entry"]["link"] is None
    assert payload["entry"]["title"] == HOSTILE  # JSON carries data as it is
    assert set(payload["entry"]) == {"id", "title", "link", "published", "author"}


# -- routing --------------------------------------------------------------------------------


def test_alert_id_is_deterministic_and_per_channel() -> None:
    a = alert_id("http://example.org/feed", "entry-1", "mail")
    assert a == alert_id("http://example.org/feed", "entry-1", "mail")
    assert uuid.UUID(a).version == 5
    others = {
        alert_id("http://example.org/feed", "entry-1", "hook"),
        alert_id("http://example.org/feed", "entry-2", "mail"),
        alert_id("http://example.org/other", "entry-1", "mail"),
    }
    assert a not in others and len(others) == 3


def test_alert_id_parts_do_not_run_together() -> None:
    assert alert_id("http://a/", "bc", "d") != alert_id("http://a/b", "c", "d")
    assert alert_id("http://a/", "b", "cd") != alert_id("http://a/", "bc", "d")


def rm(rule: str) -> RuleMatch:
    return RuleMatch(rule=rule, terms=("t",), field="title", snippet="s")


def test_channels_for_gives_one_entry_per_channel_naming_each_rule_once() -> None:
    rule_channels = {
        "dnipro": ["mail", "hook"],
        "ceasefire": ["hook", "mail", "mail"],
        "weather": ["pager"],
        "quiet": [],
    }
    routed = channels_for([rm("dnipro"), rm("ceasefire"), rm("quiet"), rm("dnipro")], rule_channels)
    assert routed == {"mail": ["dnipro", "ceasefire"], "hook": ["dnipro", "ceasefire"]}


def test_channels_for_unrouted_rules() -> None:
    assert channels_for([rm("unknown")], {"dnipro": ["mail"]}) == {}
    assert channels_for([], {"dnipro": ["mail"]}) == {}


def test_marks_become_mark_elements_in_html_and_a_field_in_json() -> None:
    snippet = "…<b>talks</b> on a ceasefire & peace talks…"
    start = snippet.index("ceasefire")
    marked = RuleMatch(
        rule="ceasefire",
        terms=("ceasefire", "peace talks"),
        field="summary",
        snippet=snippet,
        marks=((start, start + 9), (snippet.index("peace"), snippet.index("…", 2))),
    )
    alert = make_alert(matches=(marked,))
    plain, rich = parts(round_trip(alert)[1])
    assert "on a <mark>ceasefire</mark> &amp; <mark>peace talks</mark>…" in rich
    assert "&lt;b&gt;talks&lt;/b&gt;" in rich
    assert set(html_structure(rich).tags) >= {"mark"}
    assert snippet in plain  # the text part shows the snippet as it is
    (m,) = webhook_payload(alert)["matches"]
    assert m["marks"] == [[start, start + 9], [snippet.index("peace"), snippet.index("…", 2)]]
    assert m["snippet"] == snippet


@pytest.mark.parametrize(
    ("marks", "html"),
    [
        ((), "Kyiv and Lviv"),
        (((0, 4), (2, 6)), "<mark>Kyiv a</mark>nd Lviv"),
        (((9, 99),), "Kyiv and <mark>Lviv</mark>"),
        (((5, 5), (-3, 0)), "Kyiv and Lviv"),
    ],
)
def test_marks_that_overlap_or_overrun_are_made_safe(
    marks: tuple[tuple[int, int], ...], html: str
) -> None:
    from monitor.deliver.markup import mark_ranges, marked

    m = RuleMatch(rule="r", terms=("t",), field="title", snippet="Kyiv and Lviv", marks=marks)
    assert str(marked("html", m.snippet, mark_ranges(m))) == html


def test_signature_matches_the_standard_webhooks_test_vector() -> None:
    # The example in the Standard Webhooks specification (and Svix's libraries).
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
