"""Issue-4 behaviour: the eval pipeline pinned on a fixed subset, filters, time preference,
refusals and follow-ups — over the real embedder and a real Chroma store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import newsqa

from qa import Chat, UserError
from qa.engine import Engine
from qa.evaluation import DEV_SET, evaluate, load_set
from qa.filters import Filters
from qa.settings import Settings

SUBSET = Path(__file__).parent / "data" / "eval_subset.jsonl"


def test_dev_set_is_big_and_well_formed() -> None:
    items = load_set(DEV_SET)
    kinds = [i.kind for i in items]
    assert len(items) >= 60
    assert kinds.count("unanswerable") >= 10 and kinds.count("followup") >= 10
    for item in items:
        assert item.answerable == bool(item.answers) == bool(item.sources)


def test_eval_pipeline_exact_metrics_on_fixed_subset(seeded: Engine) -> None:
    reports = evaluate(seeded.settings, load_set(SUBSET))
    full = reports[0].metrics()
    assert reports[0].name == "hybrid + answer selection"
    assert full["questions"] == 12
    assert (full["hit@1"], full["hit@3"], full["mrr"]) == (1.0, 1.0, 1.0)
    assert full["answer_accuracy"] == 0.8889  # 8 of 9 answerable: the paraphrase q047 is missed
    assert [f["id"] for f in reports[0].failures()] == ["q047"]
    # q047 asks for "tokens of gratitude", a word no article uses and no sentence resembles: it
    # is refused rather than answered with a wrong quote, so every citation given is precise.
    assert full["refusal_recall"] == 1.0 and full["false_refusal_rate"] == 0.1111
    assert full["followup_accuracy"] == 1.0
    assert full["citation_precision"] == 1.0
    assert full["max_words"] <= 80
    by_name = {r.name: r.metrics() for r in reports}
    assert set(by_name) == {"hybrid + answer selection", "dense only", "BM25 only", "hybrid"}
    assert by_name["dense only"]["refusal_recall"] == 0.0  # retrieval alone never refuses
    assert by_name["hybrid"]["refusal_recall"] == 0.0


def test_eval_cli_json(seeded: Engine) -> None:
    out = newsqa(
        "eval",
        "--set",
        str(SUBSET),
        "--json",
        "--no-ablations",
        "--store",
        str(seeded.settings.store_dir),
        "--seeds",
        str(seeded.settings.seeds_dir),
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["metrics"]["answer_accuracy"] == 0.8889
    assert {"hit@1", "mrr", "refusal_recall", "p50_ms", "p95_ms", "median_words"} <= set(
        data["metrics"]
    )


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
    answer = seeded.ask("Who is the Military Prosecutor of Armenia?")
    assert answer.sources[0].file.startswith("004") and answer.sources[0].date is None
    dated = seeded.ask(
        "Who is the Military Prosecutor of Armenia?", filters=Filters.build(since="2000")
    )
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
    engine = Engine(Settings().with_overrides(seeds=seeds, store=base / "store"))
    engine.ingest()
    return engine


@pytest.mark.parametrize(
    ("year", "mayor"), [("2018", "Elmar Valiyev"), ("2021", "Niyazi Bayramov")]
)
def test_a_year_in_the_question_prefers_articles_of_that_year(
    two_mayors: Engine, year: str, mayor: str
) -> None:
    answer = two_mayors.ask(f"Who was the mayor of Ganja in {year}?")
    assert answer.found and mayor in answer.text.replace("**", "")
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


@pytest.mark.parametrize(
    "question",
    [
        "When was Kamran Aliyev appointed Prosecutor General of Azerbaijan?",
        "What was the budget of the St Petersburg conference of European prosecutors?",
        "Who is the Prosecutor General of Turkmenistan?",
        "How old is Igor Krasnov?",
    ],
)
def test_questions_about_things_the_articles_never_say(seeded: Engine, question: str) -> None:
    answer = seeded.ask(question)
    assert answer.found is False and answer.sources == []


def test_distractor_sentence_is_not_chosen(seeded: Engine) -> None:
    answer = seeded.ask("Which Iranian diplomat did the Azerbaijani prosecutor meet?")
    assert "**Kazem Jalali**" in answer.text
    assert "Ilham" not in answer.sources[0].quote


def test_follow_up_exposes_its_rewrite(seeded: Engine) -> None:
    chat = Chat(engine=seeded)
    chat.ask("Which Russian Deputy Prosecutor General visited Azerbaijan's defence minister?")
    answer = chat.ask("What did he say the two countries are to each other?")
    assert "Valery Petrov" in answer.query
    assert "strategic partners" in answer.text
