"""The `ask()` contract on real questions, over the real embedder and a real Chroma store."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import Answer, Chat, UserError, ask
from qa.engine import Engine

CASES = [
    ("Who is the Prosecutor General of Azerbaijan?", "Kamran Aliyev", {"000", "001", "002"}),
    ("Which Iranian diplomat did the Azerbaijani prosecutor meet?", "Kazem Jalali", {"000"}),
    ("Who is Azerbaijan's Minister of Defense?", "Zakir Hasanov", {"003"}),
    ("When did the three leaders sign the second statement?", "January 11", {"001"}),
    ("How long did the war between Armenia and Azerbaijan last?", "44-day", {"001"}),
    ("Which anniversary of the Russian Prosecution Service was marked?", "299th", {"002"}),
    ("Who attended the meeting as Azerbaijani ambassador to Moscow?", "Polad Bulbuloglu", {"001"}),
    ("Who is the Military Prosecutor of Armenia?", "Vahe Harutyunyan", {"004"}),
]
UNANSWERABLE = [
    "Who won the 2022 FIFA World Cup?",
    "What is the population of Kazakhstan?",
    "What is the capital of Australia?",
]


def _check_contract(answer: Answer, seeds: Path) -> None:
    assert answer.found and answer.sources
    for i, source in enumerate(answer.sources, start=1):
        assert source.n == i and f"[{i}]" in answer.text
        text = (seeds / source.file).read_text(encoding="utf-8")
        assert text[source.start : source.end] == source.quote
        assert len(source.quote.split()) <= 60  # a sentence, not a chunk
    assert len(answer.text.split()) <= 80
    positions = [answer.text.index(f"[{s.n}]") for s in answer.sources]
    assert positions == sorted(positions)  # numbered by first citation


@pytest.mark.parametrize(("question", "expected", "files"), CASES)
def test_answers_cite_the_right_article(
    seeded: Engine, question: str, expected: str, files: set[str]
) -> None:
    answer = seeded.ask(question)
    _check_contract(answer, seeded.settings.seeds_dir)
    assert expected in answer.text
    assert answer.sources[0].file[:3] in files
    assert expected in answer.sources[0].quote
    assert answer.question == question


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_are_refused(seeded: Engine, question: str) -> None:
    answer = seeded.ask(question)
    assert answer.found is False and answer.sources == []
    assert "don't say" in answer.text


def test_module_level_ask_ingests_an_empty_store(tmp_path: Path, seeded: Engine) -> None:
    answer = ask(
        "Who is the Prosecutor General of Azerbaijan?",
        store=tmp_path / "fresh",
        seeds=seeded.settings.seeds_dir,
    )
    assert "Kamran Aliyev" in answer.text
    d = answer.to_dict()
    assert set(d) >= {"question", "text", "found", "sources"}
    assert set(d["sources"][0]) == {
        "n",
        "file",
        "title",
        "date",
        "author",
        "quote",
        "start",
        "end",
        "score",
    }


def test_source_metadata_travels_with_the_quote(seeded: Engine) -> None:
    answer = seeded.ask("Which Iranian diplomat did the Azerbaijani prosecutor meet?")
    s = answer.sources[0]
    assert (s.file, s.date, s.author) == (
        "000_9f4a2981cc9edab8.txt",
        "2021-07-08",
        "Vafa Ismayilova",
    )
    assert (
        s.quote == "During the visit, Kamran Aliyev met Iranian Ambassador to Russia Kazem Jalali."
    )


def test_follow_up_resolves_the_pronoun(seeded: Engine) -> None:
    chat = Chat(engine=seeded)
    first = chat.ask("Who is Armenia's Prosecutor General?")
    assert "Artur Davtyan" in first.text
    second = chat.ask("Whom did he invite to Armenia?")
    assert "Davtyan" in (chat.last_query or "")
    assert second.found and second.sources[0].file.startswith("004")
    assert "invited his Russian counterpart to Armenia" in second.sources[0].quote
    chat.reset()
    assert chat.turns == [] and chat.last_query is None


def test_empty_question_is_a_user_error(seeded: Engine) -> None:
    with pytest.raises(UserError, match="empty"):
        seeded.ask("   ")
