"""Answer quality pinned on the seed dev set and a fixed bbc_dev subset, the question sets' shape,
filters and time preference — over the real embedder, a real Chroma store and the shipped reader.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import newsqa

from qa import UserError
from qa.articles import read_article_text
from qa.engine import Engine
from qa.filters import Filters
from qa.settings import Settings
from qa.tools.evaluation import contains_alias, evaluate, load_set

# Pinned after the last `newsqa train`; they move only when the reader or the model does.
SEED_DEV_ACCURACY = (0.7632, 0.8507)
SEED_DEV_REFUSAL = (0.4286, 0.1184)
SEED_DEV_FOLLOWUP = 0.7857
BBC_SUBSET_QUESTIONS = 47
BBC_SUBSET_ACCURACY = (0.8, 0.8205)
BBC_SUBSET_REFUSAL = (0.0, 0.025)
BBC_SUBSET_BASELINE = 0.775
SETS = Path(__file__).parent / "data" / "sets"
BBC = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "bbc"
needs_bbc = pytest.mark.skipif(
    not BBC.is_dir(), reason=f"the BBC corpus is not at {BBC} (the BBC subset is skipped)"
)


def _split() -> dict[str, list[str]]:
    """The article split every BBC set is written on (train / dev / final file lists)."""
    return json.loads((SETS / "bbc_split.json").read_text(encoding="utf-8"))


def _cases(name: str) -> list[dict[str, Any]]:
    """The raw JSON cases of a set, for fields `Item` does not keep ("near")."""
    lines = (SETS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_bbc_sets_are_blind_split_and_well_formed() -> None:
    split = _split()
    sides = {name: set(split[name]) for name in ("train", "dev", "final")}
    assert not (sides["train"] & sides["dev"]) and not (sides["dev"] & sides["final"])
    for name, side, least in (("bbc_train", "train", 600), ("bbc_dev", "dev", 200)):
        items = load_set(SETS / f"{name}.jsonl")
        assert len(items) >= least
        written_from = {case.get("near") or case["sources"][0] for case in _cases(name)}
        assert len(written_from & sides[side]) >= 150
        assert sum(not i.answerable for i in items) >= 0.15 * len(items)
        assert sum(i.followup for i in items) >= 0.10 * len(items)
        assert sum(i.style == "paraphrased" for i in items) >= len(items) / 3
        for item in items:
            assert item.answerable == bool(item.answers) == bool(item.sources) == bool(item.support)


def test_bbc_train_extra_is_train_side_single_turn_and_labelled() -> None:
    """The 1,546 extra training questions (see README) stay on the train side of the split."""
    train_side = set(_split()["train"])
    raw = _cases("bbc_train_extra")
    items = load_set(SETS / "bbc_train_extra.jsonl")
    assert len(items) == len(raw) >= 1500
    assert len({i.id for i in items}) == len(items)
    assert not any(i.followup for i in items)
    assert sum(not i.answerable for i in items) >= 0.15 * len(items)
    assert sum(i.style == "paraphrased" for i in items) >= len(items) / 3
    for item, case in zip(items, raw, strict=True):
        assert item.answerable == bool(item.answers) == bool(item.sources) == bool(item.support)
        assert set(item.sources or [case["near"]]) <= train_side, item.id
        support = " ".join(item.support)
        assert all(contains_alias(support, group) for group in item.answers), item.id


@needs_bbc
def test_bbc_train_extra_support_is_verbatim_in_every_source() -> None:
    for item in load_set(SETS / "bbc_train_extra.jsonl"):
        for source in item.sources:
            text = read_article_text(BBC / source)
            assert all(sentence in text for sentence in item.support), (item.id, source)


def _metrics(settings: Settings, path: Path) -> dict[str, float]:
    return evaluate(settings, load_set(path), ablations=False)[0].metrics()


def test_seed_dev_exact_metrics(seeded: Engine) -> None:
    m = _metrics(seeded.settings, SETS / "seed_dev.jsonl")
    assert m["questions"] == 90 and m["answerable"] == 76
    assert (m["answer_accuracy"], m["citation_precision"]) == SEED_DEV_ACCURACY
    assert (m["refusal_recall"], m["false_refusal_rate"]) == SEED_DEV_REFUSAL
    assert m["followup_accuracy"] == SEED_DEV_FOLLOWUP
    assert m["max_words"] <= 60


@pytest.fixture(scope="module")
def bbc_subset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    """Every 5th bbc_dev question over its articles plus 150 other dev-split articles."""
    if not BBC.is_dir():
        pytest.skip(f"the BBC corpus is not at {BBC}")
    base = tmp_path_factory.mktemp("bbc")
    lines = (SETS / "bbc_dev.jsonl").read_text(encoding="utf-8").splitlines()[::5]
    subset = base / "subset.jsonl"
    subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    files = set(_split()["dev"][:150])
    for line in lines:
        case = json.loads(line)
        files.update(case["sources"] + ([case["near"]] if case.get("near") else []))
    for rel in sorted(files):
        target = base / "articles" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BBC / rel, target)
    engine = Engine(Settings().with_overrides(seeds=base / "articles", store=base / "store"))
    engine.ingest()
    return engine, subset


@needs_bbc
def test_bbc_dev_subset_exact_metrics(bbc_subset: tuple[Engine, Path]) -> None:
    engine, subset = bbc_subset
    reports = evaluate(engine.settings, load_set(subset))
    by_name = {r.name: r.metrics() for r in reports}
    m = by_name["reader"]
    assert m["questions"] == BBC_SUBSET_QUESTIONS
    assert (m["answer_accuracy"], m["citation_precision"]) == BBC_SUBSET_ACCURACY
    assert (m["refusal_recall"], m["false_refusal_rate"]) == BBC_SUBSET_REFUSAL
    baseline = by_name["baseline: BM25 top-1 sentence"]
    assert baseline["answer_accuracy"] == BBC_SUBSET_BASELINE
    assert baseline["refusal_recall"] == 0.0  # the baseline never refuses
    assert by_name["reader, never refusing"]["false_refusal_rate"] == 0.0


def test_eval_cli_json(seeded: Engine) -> None:
    out = newsqa(
        "eval",
        "--set",
        str(SETS / "seed_dev.jsonl"),
        "--json",
        "--no-ablations",
        "--store",
        str(seeded.settings.store_dir),
        "--seeds",
        str(seeded.settings.seeds_dir),
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)["seed_dev.jsonl"]
    assert data["metrics"]["answer_accuracy"] == SEED_DEV_ACCURACY[0]
    assert {"hit@1", "refusal_recall", "p50_ms", "median_words"} <= set(data["metrics"])


def test_bad_question_set_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(UserError, match="bad.jsonl:1"):
        load_set(bad)


def test_source_filter_restricts_citations(seeded: Engine) -> None:
    only = "001_0a09935dfe10dade.txt"
    answer = seeded.ask(
        "Who is the Prosecutor General of Azerbaijan?", filters=Filters.build(sources=[only])
    )
    assert answer.found and {s.file for s in answer.sources} == {only}


def test_date_filters(seeded: Engine) -> None:
    question = "Who is Azerbaijan's Minister of Defense?"
    assert seeded.ask(question).sources[0].file.startswith("003")  # dated 2019-10-08
    in_2019 = seeded.ask(question, filters=Filters.build(until="2019-12"))
    assert in_2019.found and {s.file[:3] for s in in_2019.sources} == {"003"}
    later = seeded.ask(question, filters=Filters.build(since="2021"))
    assert all(s.date and s.date >= "2021" for s in later.sources)
    assert not any(s.file.startswith("003") for s in later.sources)


def test_undated_articles_kept_without_a_date_filter(seeded: Engine) -> None:
    question = "Whom did Davtyan invite to Armenia?"
    answer = seeded.ask(question)
    assert answer.sources[0].file.startswith("004") and answer.sources[0].date is None
    dated = seeded.ask(question, filters=Filters.build(since="2000"))
    assert not any(s.file.startswith("004") for s in dated.sources)


def test_filter_arguments_are_validated() -> None:
    with pytest.raises(UserError):
        Filters.build(since="2021-13")
    with pytest.raises(UserError):
        Filters.build(since="2022", until="2021")
    assert Filters.build(since="2021", until="2021-02").chroma_where() == {
        "$and": [{"date_int": {"$gte": 20210101}}, {"date_int": {"$lte": 20210228}}]
    }


@pytest.fixture(scope="module")
def two_mayors(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    base = tmp_path_factory.mktemp("mayors")
    seeds = base / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(
        " date 2018-05-02 By Test Writer\n\nThe mayor of Ganja, Elmar Valiyev, opened a new "
        "bridge over the river on Tuesday.\n",
        encoding="utf-8",
    )
    (seeds / "b.txt").write_text(
        " date 2021-09-14 By Test Writer\n\nThe mayor of Ganja, Niyazi Bayramov, opened a new "
        "school in the city centre on Monday.\n",
        encoding="utf-8",
    )
    # Never refusing: this checks the ranker's year preference. (The shipped threshold refuses
    # both questions on a two-article store: a known false refusal on tiny folders, see README.)
    engine = Engine(
        Settings().with_overrides(seeds=seeds, store=base / "store"), reader_mode="always-answer"
    )
    engine.ingest()
    return engine


@pytest.mark.parametrize(
    ("year", "mayor"), [("2018", "Elmar Valiyev"), ("2021", "Niyazi Bayramov")]
)
def test_a_year_in_the_question_prefers_articles_of_that_year(
    two_mayors: Engine, year: str, mayor: str
) -> None:
    answer = two_mayors.ask(f"Who was the mayor of Ganja in {year}?")
    assert answer.found and mayor in answer.text
    assert answer.sources[0].date is not None and answer.sources[0].date.startswith(year)


def test_cli_filters(seeded: Engine) -> None:
    out = newsqa(
        "ask",
        "--json",
        "--until",
        "2019",
        "--store",
        str(seeded.settings.store_dir),
        "--seeds",
        str(seeded.settings.seeds_dir),
        "Who is Azerbaijan's Minister of Defense?",
    )
    data = json.loads(out.stdout)
    assert data["found"] and {s["file"][:3] for s in data["sources"]} == {"003"}
