"""``newsmonitor match``: try a query on text, a saved feed, a live feed, or JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.servers import FEEDS, HTTPServer


def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["match", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_text_on_standard_input_shows_terms_field_and_marked_snippet() -> None:
    code, out, _ = run("Dnipropetrovsk", stdin="Обстріл у Дніпропетровській області\nДеталі згодом")
    assert code == 0
    assert out.splitlines() == [
        "  terms: Dnipropetrovsk",
        "  title: Обстріл у [Дніпропетровській] області",
    ]


def test_html_on_standard_input_is_made_plain() -> None:
    code, out, _ = run("Kharkiv", stdin='<p>Strikes on <a title="Kyiv">Kharkiv</a></p>')
    assert code == 0
    assert "summary: Strikes on [Kharkiv]" in out


def test_no_match() -> None:
    assert run("Kyiv", stdin="Lviv news") == (0, "no match\n", "")


def test_a_query_that_does_not_parse_is_one_error_line_and_status_2() -> None:
    code, out, err = run("Kyiv AND", stdin="x")
    assert code == 2
    assert out == ""
    assert err.startswith("error: the query does not parse at character 9: expected ")
    assert len(err.splitlines()) == 1


def test_a_saved_feed_file() -> None:
    code, out, _ = run("--file", str(FEEDS / "ukraine.atom"), "--all", "Kyiv OR Dnipropetrovsk")
    assert code == 0
    lines = out.splitlines()
    assert "match: Shelling reported in Dnipropetrovsk region" in lines
    assert "no match: Peace talks planned for next week" in lines
    assert lines[-1] == "2 of 3 entries match"


def test_a_live_feed(http: HTTPServer) -> None:
    url = http.feed("/world.rss", "world.rss")
    code, out, _ = run("--url", url, "--allow", "127.0.0.1", "ceasefire")
    assert code == 0
    assert "match: Ceasefire talks resume in Geneva" in out
    assert out.splitlines()[-1].endswith("entries match")


def test_a_live_feed_that_fails_is_an_error(http: HTTPServer) -> None:
    code, _, err = run("--url", http.url("/missing.rss"), "--allow", "127.0.0.1", "ceasefire")
    assert code == 1
    # (The test server's own thread may print to stderr too.)
    assert err.splitlines()[-1].startswith("error: ") and "404" in err


def test_exact_turns_variants_off() -> None:
    assert run("Kyiv", stdin="Київ")[1] != "no match\n"
    assert run("--exact", "Kyiv", stdin="Київ")[1] == "no match\n"


def test_jsonl_one_line_out_per_line_in_errors_included() -> None:
    lines = [
        {"query": "ceasefir*", "title": "Ceasefire holds", "summary": "", "content": ""},
        {"query": "Kyiv AND", "title": "x"},
        "not json",
        {"query": "Київ", "summary": "Talks in Kiev", "exact": False},
        {"query": "Kyiv", "title": "Lviv"},
        {"title": "no query"},
        {"query": "Kyiv", "title": 7},
        [1, 2],
        {"query": "author:Kovalenko", "title": "x", "author": "Olena Kovalenko"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    code, out, _ = run("--jsonl", stdin=stdin)
    assert code == 0
    got = [json.loads(line) for line in out.splitlines()]
    assert len(got) == len(lines)
    assert got[0] == {
        "match": True,
        "terms": ["ceasefir*"],
        "snippet": "Ceasefire holds",
        "field": "title",
        "marks": [[0, 9]],
    }
    assert got[1]["error"].startswith("the query does not parse at character 9")
    assert got[2]["error"].startswith("the line is not JSON")
    assert got[3]["match"] is True and got[3]["terms"] == ["Київ"]
    assert got[4] == {"match": False, "terms": [], "snippet": None, "field": None, "marks": []}
    assert got[5] == {"error": 'the line has no "query" string'}
    assert got[6] == {"error": '"title" must be a string'}
    assert got[7] == {"error": "the line is not a JSON object"}
    assert got[8]["match"] is True


def test_jsonl_query_argument_is_the_default() -> None:
    code, out, _ = run("--jsonl", "Kyiv", stdin='{"title": "Kyiv"}\n{"title": "Lviv"}\n')
    assert code == 0
    assert [json.loads(x)["match"] for x in out.splitlines()] == [True, False]


@pytest.mark.parametrize("args", [[], ["--file", "x.rss", "--url", "http://127.0.0.1/"]])
def test_usage_errors(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "x.rss").write_text("<rss/>")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        code, _, _ = run(*args, *([] if not args else ["Kyiv"]))
    assert code == 2


def test_needs_no_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = CliRunner().invoke(cli, ["--config", str(missing), "match", "Kyiv"], input="Kyiv")
    assert result.exit_code == 0


def test_categories_and_the_feed_title_come_from_the_feed(tmp_path: Path) -> None:
    feed = tmp_path / "tagged.rss"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Kyiv Independent</title><link>http://127.0.0.1/</link>"
        "<item><guid>1</guid><title>Morning briefing</title>"
        "<category>Russia-Ukraine war</category><category>Energy</category>"
        "<link>https://news.example.org/1</link></item></channel></rss>",
        encoding="utf-8",
    )
    for query in ('category:"Ukraine war"', "feed:Independent", "domain:example.org"):
        code, out, _ = run("--file", str(feed), query)
        assert code == 0
        assert out.splitlines()[-1] == "1 of 1 entries match", query
    assert run("--file", str(feed), "category:sport")[1].splitlines()[-1] == "0 of 1 entries match"
