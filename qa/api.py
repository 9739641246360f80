"""The public API: `ask()`, `Chat`, `ingest()`, `status()`; engines are opened once per store."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.engine import Engine
from qa.filters import Filters
from qa.followup import rewrite
from qa.question_input import clean_question
from qa.settings import Settings
from qa.types import Answer

if TYPE_CHECKING:
    from qa.generative.stream import AnswerStream

if TYPE_CHECKING:  # ingest's modules load only for an ingest
    from qa.ingestion import IngestReport, ProgressCallback

_engines: dict[Settings, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(
    *,
    store: str | Path | None = None,
    seeds: str | Path | None = None,
    chroma_url: str | None = None,
    top_k: int | None = None,
    llm: str | None = None,
) -> Engine:
    """The shared engine for these settings (defaults from `QA_*` environment variables);
    `llm` only sets the engine's default for `Chat` (e.g. `newsqa chat --llm`)."""
    settings = Settings.from_env().with_overrides(
        store=store, seeds=seeds, chroma_url=chroma_url, top_k=top_k, llm=llm
    )
    with _engines_lock:
        engine = _engines.get(settings)
        if engine is None:
            engine = _engines[settings] = Engine(settings)
        return engine


def ask(
    question: str,
    *,
    store: str | Path | None = None,
    seeds: str | Path | None = None,
    top_k: int | None = None,
    since: str | None = None,
    until: str | None = None,
    sources: str | Iterable[str] | None = None,
    llm: str | None = None,
) -> Answer:
    """Answer one question from the articles; ingests the seeds first if the store is empty.

    `llm` (default `QA_LLM`) is a generative answerer's spec, e.g. "ollama:MODEL"; "off" or
    unset: the extractive reader.
    """
    engine = get_engine(store=store, seeds=seeds, top_k=top_k)
    return Chat(engine=engine, llm=llm).ask(question, since=since, until=until, sources=sources)


def ingest(
    *,
    store: str | Path | None = None,
    seeds: str | Path | None = None,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Bring the store in line with the seeds folder; unchanged articles embed nothing."""
    return get_engine(store=store, seeds=seeds).ingest(rebuild=rebuild, progress=progress)


def status(*, store: str | Path | None = None, seeds: str | Path | None = None) -> dict[str, Any]:
    return get_engine(store=store, seeds=seeds).status()


class Chat:
    """A conversation: follow-ups ("Whom did he meet?") are resolved against the last turn."""

    def __init__(
        self,
        *,
        store: str | Path | None = None,
        seeds: str | Path | None = None,
        top_k: int | None = None,
        engine: Engine | None = None,
        llm: str | None = None,
    ) -> None:
        """`llm` is a generative answerer's spec (default: the engine's settings, `QA_LLM`);
        it is checked for form here, and the backend opened on the first question."""
        self.engine = engine or get_engine(store=store, seeds=seeds, top_k=top_k)
        self.llm = self.engine.settings.llm if llm is None else llm
        if self.llm:
            from qa.generative.spec import parse_spec

            self.llm = self.llm if parse_spec(self.llm) else None  # malformed: fails now
        self.turns: list[Answer] = []
        self._focus: dict[int, str] = {}  # id(answer) → the self-contained question it answered

    @property
    def label(self) -> str:
        """Who answers: "" for the extractive reader, else the LLM's label (`ollama:MODEL`)."""
        if not self.llm:
            return ""
        from qa.generative.spec import parse_spec

        spec = parse_spec(self.llm)
        return spec.label if spec else ""

    def ask(
        self,
        question: str,
        *,
        since: str | None = None,
        until: str | None = None,
        sources: str | Iterable[str] | None = None,
    ) -> Answer:
        """The answer to `question`, a follow-up resolved against the last turn."""
        return self._start(question, since, until, sources, streaming=False).result()

    def ask_stream(
        self,
        question: str,
        *,
        since: str | None = None,
        until: str | None = None,
        sources: str | Iterable[str] | None = None,
    ) -> AnswerStream:
        """The answer as it is written: iterate for `Passages` (before the first token), then
        `Delta`s, then `Done(answer)`; `cancel()` stops it (no turn is recorded then).

        Retrieval runs now (a bad filter raises here); generation runs as it is iterated. With
        the extractive reader the same events come at once.
        """
        return self._start(question, since, until, sources, streaming=True)

    def _start(
        self,
        question: str,
        since: str | None,
        until: str | None,
        sources: str | Iterable[str] | None,
        *,
        streaming: bool,
    ) -> AnswerStream:
        from qa.generative.stream import finished

        previous = self.turns[-1] if self.turns else None
        text = clean_question(question)
        asked = self._focus.get(id(previous), "") if previous else ""
        query, focus = rewrite(text, previous, asked)
        follows = previous is not None and query != text
        prefer = (
            frozenset(s.file for s in previous.sources) if follows and previous else frozenset()
        )
        filters = Filters.build(since, until, sources)
        # A follow-up whose references stayed unresolved ("And how large were those funds?")
        # names no topic of its own: it is searched with the previous turn's words only.
        resolved = focus if focus != text else None

        def record(answer: Answer) -> None:
            self.turns.append(answer)
            self._focus[id(answer)] = focus

        if not self.llm:
            answer = self.engine.ask(
                text,
                query=query,
                focus=resolved,
                filters=filters,
                prefer_files=prefer,
            )
            return finished(answer, record)
        from qa.generative.session import open_answerer, start

        answerer = open_answerer(self.engine, self.llm)
        assert answerer is not None
        return start(
            self.engine,
            answerer,
            text,
            query=query,
            focus=resolved,
            filters=filters,
            prefer_files=prefer,
            streaming=streaming,
            on_answer=record,
        )

    def forget(self, answer: Answer) -> None:
        """Drop `answer` (e.g. a cancelled one) so later follow-ups don't build on it."""
        self.turns = [turn for turn in self.turns if turn is not answer]
        self._focus.pop(id(answer), None)

    def reset(self) -> None:
        """Start a fresh conversation."""
        self.turns.clear()
        self._focus.clear()

    @property
    def last_query(self) -> str | None:
        """The query the last turn actually searched (its rewrite, if it was a follow-up)."""
        return (self.turns[-1].query or self.turns[-1].question) if self.turns else None
