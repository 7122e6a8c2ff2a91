"""Pure parts of the chat channels: fitting text into limits, and big digests rendered."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.deliver.chat import discord, matrix, ntfy, slack, teams, telegram
from monitor.deliver.chat.fit import (
    cut_html,
    cut_lines,
    cut_text,
    split_title,
    utf8_bytes,
    utf16_units,
)
from monitor.deliver.chat.prepare import defuse, prepared
from monitor.records import Outbound, RuleMatch
from tests.chat_records import make_alert

ENTITY = re.compile(r"&#?\w+;")


class Balance(HTMLParser):
    """Fails on an end tag that closes nothing; ``open`` holds what is left open."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("br", "hr", "img"):  # void elements have no end tag
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"


def assert_whole_entities(markup: str) -> None:
    for i, char in enumerate(markup):
        if char == "&":
            assert ENTITY.match(markup, i), f"half an entity at {markup[i : i + 8]!r}"


def big_digest(count: int, title: str = "A long headline about the ceasefire") -> Outbound:
    alerts = tuple(
        make_alert(
            alert_id=f"00000000-0000-5000-8000-{i:012d}",
            title=f"{title} & more, part {i} 😀",
            link=f"https://news.example.org/world/{i}?a=1&b=2",
            matches=(RuleMatch(f"rule-{i % 3}", ("ceasefire",), "title", "snippet"),),
        )
        for i in range(count)
    )
    return Outbound("chat", "ffffffff-0000-5000-8000-000000000000", alerts, "digest")


# -- cut_html ------------------------------------------------------------------------------

segment = st.one_of(
    st.text(max_size=40).map(html.escape),
    st.sampled_from(["<b>", "</b>", "<i>", "</i>", "<code>", "</code>", "<br>"]),
    st.builds(lambda u: f'<a href="https://x.example/{html.escape(u)}">', st.text(max_size=10)),
)


@st.composite
def markup(draw: st.DrawFn) -> str:
    """Well-formed HTML from escaped text and nested tags, as the templates produce."""
    out: list[str] = []
    stack: list[str] = []
    for part in draw(st.lists(segment, max_size=40)):
        if part.startswith("</"):
            if stack:
                out.append(f"</{stack.pop()}>")
            continue
        if part.startswith("<") and part != "<br>":
            stack.append(part[1:].split(">")[0].split()[0])
        out.append(part)
    return "".join(out) + "".join(f"</{t}>" for t in reversed(stack))


@settings(max_examples=300, deadline=None)
@given(markup(), st.integers(min_value=12, max_value=400), st.sampled_from([len, utf16_units]))
def test_cut_html_never_breaks_markup(text: str, limit: int, size: object) -> None:
    measure = size if callable(size) else len
    cut = cut_html(text, limit, measure)
    if measure(text) <= limit:
        assert cut == text
        return
    assert measure(cut) <= limit
    assert "…" in cut
    assert Balance(cut).open == []
    assert_whole_entities(cut)


def test_cut_html_counts_utf16_and_closes_tags() -> None:
    text = '<b><a href="https://x.example/">' + "😀" * 3000 + "</a></b>"
    cut = cut_html(text, 4096, utf16_units)
    assert utf16_units(cut) <= 4096 and cut.endswith("…</a></b>")
    assert cut_html("<b>a &amp; b</b>", 9) == "<b>a…</b>"
    assert cut_html("<b>a &amp; b</b>", 14) == "<b>a…</b>"  # an entity whole or not at all
    assert cut_html("<b>a &amp; b</b>", 15) == "<b>a &amp;…</b>"


def test_cut_text_leaves_no_dangling_escape_or_entity() -> None:
    assert cut_text("abc\\-def", 5) == "abc…"
    assert cut_text("Tom &amp; Jerry", 8) == "Tom…"
    assert cut_text("short", 10) == "short"


def test_cut_lines_keeps_whole_lines() -> None:
    text = "\n".join(f"- [item {i}](https://x.example/{i})" for i in range(100))
    cut = cut_lines(text, 200)
    assert len(cut) <= 200 and cut.endswith("\n…")
    assert all(line.endswith(")") for line in cut.splitlines()[:-1])
    assert cut_lines("x" * 50, 20) == "x" * 19 + "…"


def test_split_title() -> None:
    assert split_title("Title\n\nbody\nmore\n") == ("Title", "body\nmore")
    assert split_title("Only a title") == ("Only a title", "")


# -- feed text preparation -----------------------------------------------------------------


def test_prepared_folds_lines_and_defuses() -> None:
    alert = make_alert(author="Eve\r\nX-Evil: 1", feed_name="Feed\n> quote")
    message = Outbound("chat", alert.alert_id, (alert,))
    flat = prepared(message).alerts[0]
    assert flat.author == "Eve X-Evil: 1" and flat.feed_name == "Feed > quote"
    assert flat.link == alert.link
    assert defuse("@everyone <!channel> [x](y)") == "@\u200beveryone <!\u200bchannel> [x]\u200b(y)"


# -- big digests stay inside each service's limits -----------------------------------------


def test_telegram_digest_fits_4096_utf16_units() -> None:
    text = telegram.payload(1, big_digest(300))["text"]
    assert utf16_units(text) <= 4096 and "…" in text
    assert Balance(text).open == []
    assert_whole_entities(text)


def test_discord_limits() -> None:
    [embed] = discord.payload(big_digest(300))["embeds"]
    assert len(embed["description"]) <= 4096 and embed["description"].endswith("\n…")
    long = make_alert(title="word " * 200)
    [embed] = discord.payload(Outbound("chat", long.alert_id, (long,)))["embeds"]
    assert len(embed["title"]) <= 256 and embed["title"].endswith("…")


def test_slack_section_fits_3000() -> None:
    text = slack.payload(big_digest(300))["blocks"][0]["text"]["text"]
    assert len(text) <= 3000 and text.endswith("\n…")


def test_matrix_event_stays_under_64_kib() -> None:
    content = matrix.content(big_digest(2000))
    assert utf8_bytes(content["body"]) <= 24000
    assert utf8_bytes(content["formatted_body"]) <= 24000
    assert Balance(content["formatted_body"]).open == []
    assert len(json.dumps(content).encode()) < 65536


def test_ntfy_message_fits_4096_bytes() -> None:
    body = ntfy.payload("alerts", big_digest(300))
    assert utf8_bytes(body["message"]) <= 4096
    assert body["tags"] == ["newspaper", "rule-0", "rule-1", "rule-2"]


def test_teams_blocks_are_never_empty() -> None:
    card = teams.card(big_digest(300))
    assert all(block["text"].strip() and block["wrap"] for block in card["body"])
    assert len(json.dumps(card).encode()) < 28 * 1024 + 4096


def test_ntfy_server_and_topic() -> None:
    assert ntfy.server_and_topic("https://ntfy.sh/alerts") == ("https://ntfy.sh/", "alerts")
    assert ntfy.server_and_topic("https://h.example:8080/ntfy/alerts/?x=1") == (
        "https://h.example:8080/ntfy/",
        "alerts",
    )


def test_matrix_event_url_quotes_room_and_transaction() -> None:
    assert matrix.event_url("https://m.example/", "!abc:m.example", "id/1") == (
        "https://m.example/_matrix/client/v3/rooms/%21abc%3Am.example/send/m.room.message/id%2F1"
    )
