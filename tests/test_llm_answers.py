"""Generative answers over the real embedder and a real Chroma store, with the LLM faked at the
HTTP level (tests/llm_fakes.py): the prompt, the citation check's repairs, refusals, failures."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from llm_fakes import FakeLLM, Request, fake_llm, free_port

from qa import Chat, Engine
from qa.articles import read_article_text
from qa.reader.answer import NOT_FOUND_TEXT
from qa.types import Answer, Delta, Done, Passages

QUESTION = "Who is the Prosecutor General of Azerbaijan?"
CLAIM = "Kamran Aliyev is the Prosecutor General of Azerbaijan"
_BLOCK = re.compile(r"<<<PASSAGE \[(\d+)\][^\n]*\n(.*?)\nPASSAGE>>>", re.S)


def engine_like(seeded: Engine, **changes: Any) -> Engine:
    """An engine over the seeded store and model with some settings changed."""
    engine = Engine(replace(seeded.settings, **changes))
    engine._open(seeded.store)
    engine._embedder = seeded.embedder
    return engine


def shown_passages(request: Request) -> dict[int, str]:
    """Passage number → text, as the request showed them to the model."""
    user = request.body["messages"][-1]["content"]
    return {int(n): text for n, text in _BLOCK.findall(user)}


def numbered(fake: FakeLLM, template: Callable[[dict[int, str]], str]) -> None:
    """Make the fake's reply depend on the passages it is sent (to cite a known one)."""
    fake.reply = lambda body: template(
        shown_passages(Request("", {}, body)) if body.get("messages") else {}
    )


def check_contract(answer: Answer, seeds: Path) -> None:
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {s.n for s in answer.sources}
    assert [s.n for s in answer.sources] == list(range(1, len(answer.sources) + 1))
    for s in answer.sources:
        assert read_article_text(seeds / s.file)[s.start : s.end] == s.quote


SPECS = [
    pytest.param(lambda f: f"ollama:fake-model@{f.ollama}", id="ollama"),
    pytest.param(lambda f: f"openai:fake-model@{f.openai}", id="openai"),
]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "one-reply"])
def test_the_request_carries_the_numbered_passages_and_the_answer_is_checked(
    seeded: Engine, spec: Callable[[FakeLLM], str], streaming: bool
) -> None:
    with fake_llm() as fake:
        numbered(fake, lambda shown: f"{CLAIM} [{_holding(shown, 'Kamran Aliyev')}].")
        chat = Chat(engine=seeded, llm=spec(fake))
        stream = chat.ask_stream(QUESTION) if streaming else None
        answer = chat.ask(QUESTION) if stream is None else stream.result()
    request = fake.requests[-1]
    assert bool(request.body.get("stream")) is streaming
    roles = [m["role"] for m in request.body["messages"]]
    assert roles == ["system", "user"]
    shown = shown_passages(request)
    assert sorted(shown) == list(range(1, len(shown) + 1)) and len(shown) >= 3
    assert f"Question: {QUESTION}" in request.prompt
    assert "title: " in request.prompt  # each passage is headed with its title
    assert answer.found
    assert answer.answered_by.endswith(":fake-model")
    assert answer.text == f"{CLAIM} [1]."
    assert "Kamran Aliyev" in answer.sources[0].quote and len(answer.sources) == 1
    check_contract(answer, seeded.settings.seeds_dir)
    assert chat.turns == [answer]


def test_answer_spans_carry_over_and_a_follow_up_is_asked_standalone(seeded: Engine) -> None:
    claim = "Zakir Hasanov is Azerbaijan's Minister of Defense"
    with fake_llm() as fake:
        numbered(fake, lambda shown: f"{claim} [{_holding(shown, 'Hasanov')}].")
        chat = Chat(engine=seeded, llm=f"ollama:m@{fake.ollama}")
        first = chat.ask("Who is Azerbaijan's Minister of Defense?")
        second = chat.ask("Whom did he meet with?")
    assert first.text == f"{claim} [1]."
    span = first.spans[0]
    assert first.text[span.at : span.to] == span.text == "Zakir Hasanov"
    check_contract(first, seeded.settings.seeds_dir)
    source = first.sources[span.n - 1]
    assert source.start <= span.start < span.end <= source.end
    # the follow-up's question in the prompt is the standalone rewrite
    assert "Question: Whom did Zakir Hasanov meet with?" in fake.requests[-1].prompt
    assert second.query.startswith("Whom did Zakir Hasanov meet with?")


def _holding(shown: dict[int, str], words: str) -> int:
    return next(n for n, text in shown.items() if words in text)


def _lacking(shown: dict[int, str], words: str) -> int:
    return next(n for n, text in shown.items() if words not in text)


def test_streaming_gives_the_passages_first_then_tokens_then_the_checked_answer(
    seeded: Engine,
) -> None:
    with fake_llm() as fake:
        numbered(fake, lambda shown: f"{CLAIM} [{_holding(shown, 'Kamran Aliyev')}]. Fine [9].")
        events = list(Chat(engine=seeded, llm=f"ollama:m@{fake.ollama}").ask_stream(QUESTION))
    assert isinstance(events[0], Passages) and isinstance(events[-1], Done)
    deltas = [e.text for e in events if isinstance(e, Delta)]
    assert len(deltas) > 5 and all(isinstance(e, Delta) for e in events[1:-1])
    shown = shown_passages(fake.requests[-1])
    assert "".join(deltas) == f"{CLAIM} [{_holding(shown, 'Kamran Aliyev')}]. Fine [9]."
    passages = events[0].sources
    assert [p.n for p in passages] == sorted(shown)
    assert [" ".join(p.quote.split()) for p in passages] == [
        " ".join(shown[n].split()) for n in sorted(shown)
    ]
    assert events[-1].answer.text == f"{CLAIM} [1]."


def test_cancel_stops_generation_and_records_no_turn(seeded: Engine) -> None:
    long_reply = " ".join(["Kamran Aliyev is the Prosecutor General [1]."] * 50)
    with fake_llm(reply=long_reply) as fake:
        chat = Chat(engine=seeded, llm=f"openai:m@{fake.openai}")
        stream = chat.ask_stream(QUESTION)
        seen = []
        for event in stream:
            seen.append(event)
            if isinstance(event, Delta):
                stream.cancel()
    assert [type(e) for e in seen] == [Passages, Delta]
    assert stream.answer is None and chat.turns == []
    with pytest.raises(RuntimeError):
        stream.result()


def test_a_citation_out_of_range_is_removed(seeded: Engine) -> None:
    engine = engine_like(seeded, top_k=3)
    with fake_llm() as fake:
        numbered(fake, lambda shown: f"{CLAIM} [{_holding(shown, 'Kamran Aliyev')}][7].")
        answer = Chat(engine=engine, llm=f"ollama:m@{fake.ollama}").ask(QUESTION)
    assert len(shown_passages(fake.requests[-1])) == 3
    assert answer.text == f"{CLAIM} [1]." and "[7]" not in answer.text
    assert len(answer.sources) == 1
    check_contract(answer, seeded.settings.seeds_dir)


def test_a_sentence_without_a_citation_is_attached_to_the_passage_that_supports_it(
    seeded: Engine,
) -> None:
    with fake_llm(reply=f"{CLAIM}.") as fake:
        answer = Chat(engine=seeded, llm=f"ollama:m@{fake.ollama}").ask(QUESTION)
    assert answer.text == f"{CLAIM} [1]."
    assert "Kamran Aliyev" in answer.sources[0].quote
    check_contract(answer, seeded.settings.seeds_dir)


def test_a_sentence_citing_a_passage_that_says_something_else_is_re_attached(
    seeded: Engine,
) -> None:
    with fake_llm() as fake:
        numbered(fake, lambda shown: f"{CLAIM} [{_lacking(shown, 'Kamran Aliyev')}].")
        answer = Chat(engine=seeded, llm=f"openai:m@{fake.openai}").ask(QUESTION)
    shown = shown_passages(fake.requests[-1])
    cited = _lacking(shown, "Kamran Aliyev")
    assert "Kamran Aliyev" not in shown[cited]
    assert answer.text == f"{CLAIM} [1]." and "Kamran Aliyev" in answer.sources[0].quote
    check_contract(answer, seeded.settings.seeds_dir)


def test_unsupported_sentences_are_dropped_and_said_so(seeded: Engine) -> None:
    reply = f"{CLAIM} [1]. Kamran Aliyev also won the 1998 Nobel Prize in Physics [1]."
    with fake_llm() as fake:
        numbered(fake, lambda shown: reply.replace("[1]", f"[{_holding(shown, 'Kamran')}]"))
        answer = Chat(engine=seeded, llm=f"ollama:m@{fake.ollama}").ask(QUESTION)
    assert answer.text == f"{CLAIM} [1]."
    assert "Nobel" not in answer.text
    assert any("1 sentence of ollama:m's answer was dropped" in w for w in answer.warnings)


def test_nothing_supported_gives_the_extractive_answer_and_says_so(seeded: Engine) -> None:
    reply = "The moon is made of green cheese [1]. Paris hosts the Olympic Games every year [2]."
    extractive = seeded.ask(QUESTION)
    with fake_llm(reply=reply) as fake:
        answer = Chat(engine=seeded, llm=f"ollama:m@{fake.ollama}").ask(QUESTION)
    assert fake.requests  # the model was asked
    assert answer.text == extractive.text and answer.sources == extractive.sources
    assert answer.answered_by == ""
    assert answer.warnings == (
        "ollama:m's answer was not used: it cites no passage that supports it; "
        "showing the extractive answer",
    )


def test_the_models_dont_say_is_a_refusal(seeded: Engine) -> None:
    with fake_llm(reply="The articles don't say.") as fake:
        answer = Chat(engine=seeded, llm=f"ollama:m@{fake.ollama}").ask(QUESTION)
    assert not answer.found and answer.sources == [] and answer.text == NOT_FOUND_TEXT
    assert answer.answered_by == "ollama:m"


def test_the_answerability_model_refuses_first_without_asking_the_llm(seeded: Engine) -> None:
    with fake_llm(reply=f"{CLAIM} [1].") as fake:
        answer = Chat(engine=seeded, llm=f"ollama:m@{fake.ollama}").ask(
            "Who won the 2022 FIFA World Cup?"
        )
    assert not answer.found and answer.sources == []
    assert fake.requests == []


def _one_clear_warning(answer: Answer, extractive: Answer, *needles: str) -> None:
    assert answer.text == extractive.text and answer.sources == extractive.sources
    assert len(answer.warnings) == 1 and "\n" not in answer.warnings[0]
    assert answer.warnings[0].endswith("; showing the extractive answer")
    for needle in needles:
        assert needle in answer.warnings[0]


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_a_backend_that_is_down_gives_the_extractive_answer(seeded: Engine, kind: str) -> None:
    url = f"http://127.0.0.1:{free_port()}" + ("/v1" if kind == "openai" else "")
    answer = Chat(engine=seeded, llm=f"{kind}:m@{url}").ask(QUESTION)
    _one_clear_warning(answer, seeded.ask(QUESTION), f"the LLM {kind}:m at", "cannot connect")


@pytest.mark.parametrize("streaming", [True, False])
def test_a_slow_backend_times_out_to_the_extractive_answer(seeded: Engine, streaming: bool) -> None:
    engine = engine_like(seeded, llm_timeout=1.0)
    with fake_llm(reply=f"{CLAIM}.", delay=3.0) as fake:
        chat = Chat(engine=engine, llm=f"ollama:m@{fake.ollama}")
        answer = chat.ask_stream(QUESTION).result() if streaming else chat.ask(QUESTION)
    _one_clear_warning(answer, seeded.ask(QUESTION), "did not answer in time")


@pytest.mark.parametrize("spec", SPECS)
def test_a_backend_that_returns_garbage_gives_the_extractive_answer(
    seeded: Engine, spec: Callable[[FakeLLM], str]
) -> None:
    with fake_llm(garbage=True) as fake:
        answer = Chat(engine=seeded, llm=spec(fake)).ask_stream(QUESTION).result()
    _one_clear_warning(answer, seeded.ask(QUESTION), "the LLM ", " failed: ")


def test_binary_noise_as_an_answer_keeps_nothing(seeded: Engine) -> None:
    with fake_llm(reply="\x1b[31m\x00\x07 ]]][[[ 9999 \u202e") as fake:
        answer = Chat(engine=seeded, llm=f"ollama:m@{fake.ollama}").ask(QUESTION)
    _one_clear_warning(answer, seeded.ask(QUESTION), "was not used")


def test_the_extractive_stream_gives_the_same_events(seeded: Engine) -> None:
    chat = Chat(engine=seeded, llm="off")
    events = list(chat.ask_stream(QUESTION))
    answer = seeded.ask(QUESTION)
    assert events == [Passages(answer.sources), Delta(answer.text), Done(answer)]
    assert chat.turns == [answer] and chat.label == ""
