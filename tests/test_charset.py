"""Character encodings: HTTP charset, XML declaration, BOM, detection; Cyrillic feeds.

The legacy sample feeds are the UTF-8 files beside them, encoded:
``cyrillic-uk.cp1251.rss`` is ``cyrillic-uk.rss`` in windows-1251 and
``cyrillic-ru.koi8-r.rss`` is ``cyrillic-ru.rss`` in KOI8-R; neither declares its
encoding.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import charset
from monitor.parse import parse_feed
from tests.servers import FEEDS

UK = (FEEDS / "cyrillic-uk.rss").read_text(encoding="utf-8")
RU = (FEEDS / "cyrillic-ru.rss").read_text(encoding="utf-8")
UK_1251 = (FEEDS / "cyrillic-uk.cp1251.rss").read_bytes()
RU_KOI8 = (FEEDS / "cyrillic-ru.koi8-r.rss").read_bytes()
UK_TITLES = [
    "Обстріл Дніпропетровської області вночі",
    "Мирні переговори заплановано на наступний тиждень",
    "Перший сніг у Києві: ґанки та дахи біліють",
]
RU_TITLES = [
    "Переговоры о прекращении огня возобновятся в Женеве",
    "Рынки спокойны, цены на нефть снижаются",
]


def declared(text: str, encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n{text}'


def test_the_legacy_samples_are_their_utf8_sources_encoded() -> None:
    assert UK.encode("cp1251") == UK_1251
    assert RU.encode("koi8-r") == RU_KOI8
    assert b"<?xml" not in UK_1251 and b"<?xml" not in RU_KOI8


# Content types a server might send with these bodies: none, none with a charset, and
# charsets that are wrong in every way (multi-byte, Latin, the other Cyrillic one).
WRONG_FOR_1251 = [
    None,
    "application/rss+xml",
    "text/xml",
    "text/xml; charset=utf-8",
    "application/xml; charset=ISO-8859-1",
    "text/xml; charset=windows-1252",
    "application/rss+xml; charset=koi8-r",
    "application/rss+xml; charset=no-such-charset",
    "text/html; charset=us-ascii",
]
WRONG_FOR_KOI8 = [
    None,
    "text/xml",
    "text/xml; charset=UTF-8",
    "text/xml; charset=latin1",
    "application/rss+xml; charset=windows-1251",
    'application/rss+xml; charset="cp1252"',
]


@pytest.mark.parametrize("content_type", WRONG_FOR_1251)
def test_undeclared_windows_1251_feed(content_type: str | None) -> None:
    feed = parse_feed(UK_1251, "http://127.0.0.1/uk.rss", content_type)
    assert feed.title == "Українські новини"
    assert [e.title for e in feed.entries] == UK_TITLES
    assert feed.entries[1].summary.endswith("Їхня позиція не змінилася.")


@pytest.mark.parametrize("content_type", WRONG_FOR_KOI8)
def test_undeclared_koi8_r_feed(content_type: str | None) -> None:
    feed = parse_feed(RU_KOI8, "http://127.0.0.1/ru.rss", content_type)
    assert feed.title == "Новости дня"
    assert [e.title for e in feed.entries] == RU_TITLES
    assert feed.entries[0].summary == "Дипломаты подтвердили дату встречи; ещё ничего не решено."


def test_right_http_charset_is_believed_first() -> None:
    decoded = charset.decode(UK_1251, "text/xml; charset=windows-1251")
    assert (decoded.encoding, decoded.source) == ("cp1251", "http")
    assert decoded.text == UK


def test_xml_declaration_is_used_when_http_says_nothing() -> None:
    body = declared(RU, "KOI8-R").encode("koi8-r")
    decoded = charset.decode(body, "application/rss+xml")
    assert (decoded.encoding, decoded.source) == ("koi8-r", "declaration")
    feed = parse_feed(body, "http://127.0.0.1/ru.rss", "application/rss+xml")
    assert [e.title for e in feed.entries] == RU_TITLES


def test_wrong_declaration_is_overruled() -> None:
    # A KOI8-R body that declares windows-1251, and a UTF-8 body that declares it.
    for body in (declared(RU, "windows-1251").encode("koi8-r"), declared(UK, "cp1251").encode()):
        feed = parse_feed(body, "http://127.0.0.1/feed.rss")
        assert feed.entries[0].title in (RU_TITLES[0], UK_TITLES[0])


def test_utf8_declared_as_windows_1252_is_read_as_utf8() -> None:
    text = declared(
        "<rss><channel><title>Les nouvelles de l'été</title><item><guid>1</guid>"
        "<title>Négociations à Genève, où ça se passera</title></item></channel></rss>",
        "windows-1252",
    )
    (entry,) = parse_feed(text.encode(), "http://127.0.0.1/fr.rss").entries
    assert entry.title == "Négociations à Genève, où ça se passera"


def test_a_right_latin_declaration_is_kept() -> None:
    text = declared(
        "<rss><channel><title>Zprávy</title><item><guid>1</guid>"
        "<title>Jednání v Ženevě: diplomaté potvrdili datum příštího kola</title></item>"
        "</channel></rss>",
        "windows-1250",
    )
    (entry,) = parse_feed(text.encode("cp1250"), "http://127.0.0.1/cz.rss").entries
    assert entry.title == "Jednání v Ženevě: diplomaté potvrdili datum příštího kola"


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_byte_order_mark(codec: str) -> None:
    body = UK.encode(codec)
    decoded = charset.decode(body, "text/xml; charset=windows-1252")
    assert decoded.source == "bom"
    assert decoded.text == UK
    assert [e.title for e in parse_feed(body, "http://127.0.0.1/uk.rss").entries] == UK_TITLES


def test_utf16_label_on_an_ascii_body_is_ignored() -> None:
    body = declared("<rss><channel><title>Plain</title></channel></rss>", "utf-16").encode()
    decoded = charset.decode(body, "text/xml; charset=utf-16")
    assert decoded.encoding == "utf-8"
    assert parse_feed(body, "http://127.0.0.1/plain.rss").title == "Plain"


def test_short_undeclared_windows_1251_title() -> None:
    # Too little text for a language guess: windows-1251 wins a tie.
    body = "<rss><channel><title>Київ</title></channel></rss>".encode("cp1251")
    assert parse_feed(body, "http://127.0.0.1/k.rss").title == "Київ"


def test_http_charset_parameter() -> None:
    assert charset.http_charset('text/xml; Charset="KOI8-R"; q=1') == "KOI8-R"
    assert charset.http_charset("text/xml") is None
    assert charset.http_charset(None) is None
    assert charset.codec_name("Windows-1251") == "cp1251"
    assert charset.codec_name("unicode_escape") is None
    assert charset.codec_name("no-such") is None


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([None, "text/xml; charset=koi8-r", "x; charset=7"]))
def test_decode_never_fails(body: bytes, content_type: str | None) -> None:
    decoded = charset.decode(body, content_type)
    assert isinstance(decoded.text, str)
    assert not decoded.text.startswith("\ufeff")
