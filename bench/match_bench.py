"""Measure matching speed: all rules compiled together vs each rule evaluated in turn.

    .venv/bin/python bench/match_bench.py                      # 10, 100, 1000, 10000 rules
    .venv/bin/python bench/match_bench.py --rules 1000 --entries 2000

Generates realistic news entries in English, Ukrainian and Russian (a title, a summary,
a tenth of them with HTML left in, and for a third of them a longer content) naming
places and people, and rule sets of the given sizes: ten rules about places, the rest
each about one person, in both scripts, as keyword lists, phrases, prefixes and queries
with AND, OR, NOT, NEAR and field scopes. For each size it reports entries per
second of the compiled matcher (a fresh one, so its memory of words starts empty: the
first pass; then the same entries again: the second pass, as a running daemon sees
words it has met before) and of the naive matcher (on a sample of the entries, as it is
slow), in the same run, on one core, with the full normalisation and spelling variants
on. Times are CPU times of this process.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence

from monitor.match.compiler import CompiledMatcher
from monitor.match.naive import NaiveMatcher
from monitor.match.query import Node, parse
from monitor.records import ParsedEntry

PLACES = [
    ("Kyiv", "Київ", "Киев"), ("Kharkiv", "Харків", "Харьков"), ("Odesa", "Одеса", "Одесса"),
    ("Dnipropetrovsk", "Дніпропетровськ", "Днепропетровск"), ("Dnipro", "Дніпро", "Днепр"),
    ("Zaporizhzhia", "Запоріжжя", "Запорожье"), ("Lviv", "Львів", "Львов"),
    ("Kherson", "Херсон", "Херсон"), ("Mykolaiv", "Миколаїв", "Николаев"),
    ("Sumy", "Суми", "Сумы"), ("Poltava", "Полтава", "Полтава"), ("Donetsk", "Донецьк", "Донецк"),
    ("Luhansk", "Луганськ", "Луганск"), ("Chernihiv", "Чернігів", "Чернигов"),
    ("Vinnytsia", "Вінниця", "Винница"), ("Bakhmut", "Бахмут", "Бахмут"),
    ("Mariupol", "Маріуполь", "Мариуполь"), ("Kramatorsk", "Краматорськ", "Краматорск"),
]  # fmt: skip
EN = (
    "the a of in on and to said officials forces attack strike drone missile region city "
    "overnight report power grid energy talks peace ceasefire government minister aid "
    "convoy border river front station school hospital residents after before week "
    "market prices winter damage rescue killed injured air defence shot down"
).split()
UK = (
    "у в на і та що після під час обстріл удар дрон ракета область місто вночі повідомили "
    "сили енергетика переговори мир уряд міністр допомога кордон річка фронт станція школа "
    "лікарня мешканці тиждень ціни зима пошкодження рятувальники загинули поранені"
).split()
RU = (
    "в на и что после во время обстрел удар беспилотник ракета область город ночью сообщили "
    "силы энергетика переговоры мир правительство министр помощь граница река фронт станция "
    "школа больница жители неделя цены зима повреждения спасатели погибли ранены"
).split()
LAT = "ko va le pe tro bo da ry shy chu ma ty ne ho ba lo zi vy ki ro ste me".split()
CYR = "ко ва ле пе тро бо да ри ши чу ма ти не го ба ло зі ви кі ро сте ме".split()
ENDINGS = [("nko", "нко"), ("chuk", "чук"), ("vych", "вич"), ("enko", "енко"), ("yak", "як")]


def surnames(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` distinct made-up surnames, in Latin and in Cyrillic."""
    seen: dict[str, str] = {}
    while len(seen) < n:
        parts = rng.sample(range(len(LAT)), 3)
        end = rng.choice(ENDINGS)
        lat = "".join(LAT[p] for p in parts) + end[0]
        seen.setdefault(lat.capitalize(), ("".join(CYR[p] for p in parts) + end[1]).capitalize())
    return list(seen.items())


def make_entries(n: int, people: list[tuple[str, str]], rng: random.Random) -> list[ParsedEntry]:
    out = []
    for i in range(n):
        lang = rng.choice(["en", "en", "uk", "ru"])
        vocab = {"en": EN, "uk": UK, "ru": RU}[lang]
        column = {"en": 0, "uk": 1, "ru": 2}[lang]

        def sentence(k: int, vocab: list[str] = vocab, column: int = column) -> str:
            # About one place and one or two people per entry, as in news wires.
            words = [rng.choice(vocab) for _ in range(k)]
            if rng.random() < 0.25:
                words[rng.randrange(k)] = rng.choice(PLACES)[column]
            if rng.random() < 0.35:
                person = rng.choice(people)
                words[rng.randrange(k)] = person[0] if column == 0 else person[1]
            return " ".join(words)

        title = sentence(10).capitalize()
        # Entries reach the matcher as text; some feeds escape their HTML twice, so a
        # tenth of the summaries still hold tags and entities.
        if i % 10 == 0:
            summary = f"<p>{sentence(25)} &amp; {sentence(25)}.</p>"
        else:
            summary = f"{sentence(25)}. {sentence(25)}."
        content = " ".join(sentence(20) + "." for _ in range(10)) if i % 3 == 0 else ""
        out.append(
            ParsedEntry(
                identity=f"e{i}",
                title=title,
                link=f"https://news{i % 7}.example.org/{i}",
                author=None,
                published=None,
                summary=summary,
                content=content,
            )
        )
    return out


def make_rules(n: int, people: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, Node]]:
    """Ten rules about places (like the shipped config), the rest about one person each."""
    rules: list[tuple[str, Node]] = []
    for r in range(n):
        place = PLACES[r % len(PLACES)]
        if r < 10:
            text = f"{place[0]} -football" if r % 2 else f'"{place[0]} region" OR {place[1]}'
            rules.append((f"rule{r}", parse(text)))
            continue
        lat, cyr = people[r % len(people)]
        text = [
            f"{lat} OR {cyr}",
            f"{lat} OR {cyr}",
            f"{lat} OR {cyr}",
            f"{lat} OR {cyr} OR {place[0]}-{lat}",
            f"{lat} OR {cyr} -football",
            f"{lat} AND ({place[0]} OR {place[1]}) -football",
            f"{lat} NEAR/5 (attack OR strike OR обстріл)",
            f'title:{cyr} OR "{lat} said"',
            f"{lat[:6]}* {place[0]}",
            f'"{lat} said" OR {cyr} NOT {place[1]}',
        ][r % 10]
        rules.append((f"rule{r}", parse(text)))
    return rules


def rate(
    matcher: CompiledMatcher | NaiveMatcher, entries: Sequence[ParsedEntry]
) -> tuple[float, int]:
    hits = 0
    start = time.process_time()
    for e in entries:
        hits += len(matcher.match(e))
    return len(entries) / (time.process_time() - start), hits


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rules", type=int, nargs="*", default=[10, 100, 1000, 10000])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--naive-budget", type=float, default=20.0, help="CPU seconds per size")
    args = parser.parse_args()
    rng = random.Random(7)
    people = surnames(max(args.rules) // 2 + 50, rng)
    entries = make_entries(args.entries, people, rng)
    words = sum(len((e.title + e.summary + e.content).split()) for e in entries) / len(entries)
    print(f"{len(entries)} entries, {words:.0f} words each on average")
    print(
        "| rules | compile | compiled entries/s, first pass | second pass | hits/entry "
        "| naive entries/s (sample) | speed-up (first pass) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.rules:
        rules = make_rules(n, people, rng)
        start = time.process_time()
        compiled = CompiledMatcher(rules)
        compile_s = time.process_time() - start
        fast, hits = rate(compiled, entries)
        warm, _ = rate(compiled, entries)
        naive = NaiveMatcher(rules)
        sample = max(20, min(len(entries), int(args.naive_budget * 2000 / n)))
        slow, _ = rate(naive, entries[:sample])
        print(
            f"| {n:,} | {compile_s:.2f} s | {fast:,.0f} | {warm:,.0f} | {hits / len(entries):.2f} "
            f"| {slow:,.1f} ({sample:,}) | {fast / slow:,.0f}x |"
        )


if __name__ == "__main__":
    main()
