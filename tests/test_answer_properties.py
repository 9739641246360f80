"""Properties every answer keeps, over generated articles and generated questions (hypothesis):
markers resolve, quotes are verbatim at their offsets, spans point into the text and the file,
a refusal cites nothing — whatever is asked."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qa
from qa import Answer, Chat
from qa.articles import read_article_text
from qa.engine import Engine
from qa.errors import UserError

FIRST = ["Marek", "Ilona", "Tavish", "Oreli", "Juno", "Bertil", "Sanaa", "Kofi", "Lior", "Petra"]
LAST = ["Vondrak", "Halloran", "Okonjo", "Sveinsson", "Marchetti", "Dubrov", "Aaltonen", "Quist"]
ORGS = [
    "the Northern Rail Authority",
    "Keldon Mining Group",
    "the Coastal Water Board",
    "Harlow Fisheries Union",
    "the Institute of Glass Research",
    "Brightmoor Bank",
]
CITIES = ["Velmora", "Port Sarran", "Eskvale", "Dunmere", "Caldor", "Ostrava Nova"]
TITLES = ["chief executive", "finance minister", "chairwoman", "director", "spokesman", "mayor"]
THINGS = ["bridge", "pipeline", "harbour", "dam", "railway", "factory", "museum", "reservoir"]
MONTHS = ["January", "March", "April", "June", "September", "October", "November", "December"]
FILLER = ["however", "meanwhile", "officials", "report", "project", "weeks", "local", "plan"]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _date(rng: random.Random) -> tuple[str, str]:
    year, month, day = rng.randint(2015, 2023), rng.randrange(len(MONTHS)), rng.randint(1, 28)
    return f"{year}-{month + 1:02d}-{day:02d}", f"{MONTHS[month]} {day}, {year}"


def _sentence(rng: random.Random) -> str:
    a, b = _person(rng), _person(rng)
    org, org2, city = rng.choice(ORGS), rng.choice(ORGS), rng.choice(CITIES)
    title, thing = rng.choice(TITLES), rng.choice(THINGS)
    n, pct, when = rng.randint(2, 950), rng.randint(1, 60), _date(rng)[1]
    forms = [
        f"{a}, the {title} of {org}, met {b} in {city} on {when}.",
        f"{org[0].upper() + org[1:]} said it would spend {n} million dollars on a new {thing} "
        f"in {city}.",
        f'"We expect {n} workers to be hired by {when}," {a} told reporters in {city}.',
        f"The {thing} in {city} was opened on {when} by {a}, who called it a turning point.",
        f"Profits at {org} rose {pct} percent last year, according to {b}.",
        f"{a} was appointed {title} of {org2} after {b} resigned in {city}.",
        f"About {n} people protested outside the offices of {org} in {city} on {when}.",
        f"{rng.choice(FILLER).capitalize()}, {a} and {b} disagreed about the {thing} plan.",
        f"At the Café Müller in {city}, {a} promised €{n} million — and {pct} new jobs.",
    ]
    return rng.choice(forms)


def make_articles(folder: Path, count: int = 10, seed: int = 7) -> Path:
    """`count` deterministic synthetic articles in the seeds' header styles: some hard-wrapped,
    one in Windows-1252, one with CRLF line ends, one with a byte-order mark."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        iso, _ = _date(rng)
        paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(1, 3))) for _ in range(5)]
        org = rng.choice(ORGS)
        headline = f"{org[0].upper()}{org[1:]} and the {rng.choice(THINGS)}"
        if i % 3 == 0:  # a hard-wrapped article: quotes and spans may cross line breaks
            body = "\n\n".join(re.sub(r"(.{60,75}?) ", r"\1\n", p) for p in paragraphs)
        else:
            body = "\n\n".join(paragraphs)
        header = f" date {iso} By {_person(rng)}\n\n" if i % 2 == 0 else f"{headline}\n\n"
        text = header + body + "\n"
        if i == 4:  # a legacy encoding: read_article_text decodes it as Windows-1252
            data = text.encode("cp1252")
        elif i == 5:  # Windows line ends: normalised on reading
            data = text.replace("\n", "\r\n").encode("utf-8")
        elif i == 7:  # a byte-order mark: dropped on reading
            data = "\ufeff".encode() + text.encode("utf-8")
        else:
            data = text.encode("utf-8")
        (folder / f"gen_{i:02d}.txt").write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Generated articles ingested once into a real Chroma store with the real embedder."""
    base = tmp_path_factory.mktemp("properties")
    seeds = make_articles(base / "articles")
    engine = qa.get_engine(store=base / "store", seeds=seeds)
    report = engine.ingest()
    assert report.added == 10
    texts = {p.name: read_article_text(p) for p in sorted(seeds.glob("*.txt"))}
    vocab = sorted({w for t in texts.values() for w in re.findall(r"[A-Za-z][\w'-]*|\d+", t)})
    return {"seeds": seeds, "engine": engine, "texts": texts, "vocab": vocab}


# ---- strategies --------------------------------------------------------------------------------

PEOPLE = [f"{f} {last}" for f in FIRST for last in LAST]
ENTITIES = PEOPLE + ORGS + CITIES + TITLES + THINGS + MONTHS + [str(y) for y in range(2015, 2024)]
OPENERS = [
    "Who", "What", "When", "Where", "Which company", "How many", "How much", "Why",
    "What did", "Who is the", "In which city", "What percentage", "Whom did", "",
]  # fmt: skip
TEMPLATES = [
    "Who is the {title} of {org}?",
    "Whom did {person} meet in {city}?",
    "When was the {thing} in {city} opened?",
    "How much will {org} spend on the {thing}?",
    "How many people protested outside {org}?",
    "What did {person} tell reporters?",
    "By what percentage did profits at {org} rise?",
    "Who was appointed {title} of {org}?",
    "Where did {person} meet {person2}?",
    "Who resigned from {org} in {year}?",
    "{person} {thing}?",
    "What happened in {city} on {month} {day}?",
]


def templated() -> st.SearchStrategy[str]:
    return st.builds(
        lambda t, **kw: t.format(**kw),
        st.sampled_from(TEMPLATES),
        title=st.sampled_from(TITLES),
        org=st.sampled_from(ORGS),
        person=st.sampled_from(PEOPLE),
        person2=st.sampled_from(PEOPLE),
        city=st.sampled_from(CITIES),
        thing=st.sampled_from(THINGS),
        year=st.integers(2010, 2025).map(str),
        month=st.sampled_from(MONTHS),
        day=st.integers(1, 31).map(str),
    )


def combined(vocab: list[str]) -> st.SearchStrategy[str]:
    """A question word, then a random run of the articles' words and entities."""
    words = st.lists(
        st.one_of(st.sampled_from(vocab), st.sampled_from(ENTITIES)), min_size=1, max_size=14
    )
    return st.builds(
        lambda opener, ws, end: " ".join([opener, *ws]).strip() + end,
        st.sampled_from(OPENERS),
        words,
        st.sampled_from(["?", "", " ?", "!", "..."]),
    )


def questions(vocab: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        templated(),
        combined(vocab),
        st.text(max_size=120),  # anything at all (no lone surrogates: test_question_inputs)
        st.builds(lambda a, b: f"{a} {b}", combined(vocab), st.text(max_size=30)),
    )


# ---- the properties ---------------------------------------------------------------------------


def check_properties(answer: Answer, seeds: Path, texts: dict[str, str]) -> None:
    assert isinstance(answer, Answer)
    assert "**" not in answer.text  # the text holds no markup; renderers bold the spans
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    if not answer.found:
        assert answer.sources == [] and answer.spans == [] and markers == []
        return
    assert answer.sources, "a found answer cites something"
    assert markers, "a found answer carries its markers"
    for n in markers:  # each [n] resolves to sources[n-1]
        assert 1 <= n <= len(answer.sources)
        assert answer.sources[n - 1].n == n
    assert {s.n for s in answer.sources} == set(markers), "every source is cited in the text"
    for s in answer.sources:
        text = texts.get(s.file)
        assert text is not None, f"cited file {s.file!r} is not one of the articles"
        assert read_article_text(seeds / s.file)[s.start : s.end] == s.quote
        assert text[s.start : s.end] == s.quote and s.quote.strip()
        for start, end, _label in s.entities:
            assert s.start <= start < end <= s.end
    for span in answer.spans:
        assert 1 <= span.n <= len(answer.sources)
        source = answer.sources[span.n - 1]
        assert 0 <= span.at < span.to <= len(answer.text)
        assert answer.text[span.at : span.to] == span.text
        assert source.start <= span.start < span.end <= source.end
        # the span's text is the file's, its whitespace folded as in the answer text
        assert " ".join(texts[source.file][span.start : span.end].split()) == span.text
        assert not re.search(r"\[\d+\]", span.text), "a span never covers a marker"


def ask_checked(call: Any, question: str, corpus: dict[str, Any]) -> Answer | None:
    try:
        answer = call(question)
    except UserError as exc:  # only for what cleaning leaves empty or too long
        assert str(exc).strip() and "\n" not in str(exc)
        assert re.search(r"empty|too long", str(exc)), str(exc)
        return None
    check_properties(answer, corpus["seeds"], corpus["texts"])
    return answer


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@PROPERTY
@given(data=st.data())
def test_every_answer_keeps_its_citations(corpus: dict[str, Any], data: st.DataObject) -> None:
    question = data.draw(questions(corpus["vocab"]), label="question")
    engine: Engine = corpus["engine"]
    ask_checked(engine.ask, question, corpus)


@PROPERTY
@given(data=st.data())
def test_follow_ups_keep_their_citations(corpus: dict[str, Any], data: st.DataObject) -> None:
    first = data.draw(st.one_of(templated(), combined(corpus["vocab"])), label="first")
    second = data.draw(
        st.one_of(
            st.sampled_from(
                [
                    "Whom did he meet with?",
                    "What did she say?",
                    "When was it opened?",
                    "How much did they spend?",
                    "Where did he go?",
                    "Who replaced her?",
                ]
            ),
            questions(corpus["vocab"]),
        ),
        label="second",
    )
    chat = Chat(engine=corpus["engine"])
    ask_checked(chat.ask, first, corpus)
    ask_checked(chat.ask, second, corpus)


@settings(PROPERTY, max_examples=40)
@given(data=st.data())
def test_filtered_answers_cite_only_what_the_filter_allows(
    corpus: dict[str, Any], data: st.DataObject
) -> None:
    engine: Engine = corpus["engine"]
    files = sorted(corpus["texts"])
    question = data.draw(st.one_of(templated(), combined(corpus["vocab"])), label="question")
    chosen = data.draw(st.lists(st.sampled_from(files), min_size=1, max_size=3, unique=True))
    try:
        answer = qa.ask(question, store=engine.settings.store_dir, seeds=corpus["seeds"],
                        sources=chosen)  # fmt: skip
    except UserError as exc:  # e.g. a filter that matches nothing is an error, said so
        assert str(exc).strip() and "\n" not in str(exc)
        return
    check_properties(answer, corpus["seeds"], corpus["texts"])
    assert {s.file for s in answer.sources} <= set(chosen)


def fact_questions(texts: dict[str, str]) -> list[tuple[str, str]]:
    """(question, expected answer) pairs read back from the generated articles' sentences."""
    out: list[tuple[str, str]] = []
    for text in texts.values():
        flat = " ".join(text.split())
        for m in re.finditer(r"([A-Z]\w+ [A-Z]\w+) was appointed ([a-z ]+?) of (.+?) after", flat):
            out.append((f"Who was appointed {m[2]} of {m[3]}?", m[1]))
        for m in re.finditer(
            r"The (\w+) in ([A-Z][\w ]+?) was opened on ([A-Z]\w+ \d+, \d+)", flat
        ):
            out.append((f"When was the {m[1]} in {m[2]} opened?", m[3]))
    return sorted(set(out))


def test_the_properties_are_exercised_on_found_answers(corpus: dict[str, Any]) -> None:
    """Not vacuous: questions read back from the articles are mostly answered, with spans."""
    engine: Engine = corpus["engine"]
    cases = fact_questions(corpus["texts"])
    assert len(cases) >= 8
    found = spanned = right = 0
    for question, expected in cases:
        answer = engine.ask(question)
        check_properties(answer, corpus["seeds"], corpus["texts"])
        found += answer.found
        spanned += bool(answer.spans)
        right += expected in answer.text
    assert found >= 0.7 * len(cases) and spanned >= 0.5 * len(cases), (found, spanned, len(cases))
    assert right >= 0.5 * len(cases), (right, len(cases))
