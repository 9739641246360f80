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
) -> Engine:
    """The shared engine for these settings (defaults from `QA_*` environment variables)."""
    settings = Settings.from_env().with_overrides(
        store=store, seeds=seeds, chroma_url=chroma_url, top_k=top_k
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
) -> Answer:
    """Answer one question from the articles; ingests the seeds first if the store is empty."""
    engine = get_engine(store=store, seeds=seeds, top_k=top_k)
    return engine.ask(question, filters=Filters.build(since, until, sources))


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
    ) -> None:
        self.engine = engine or get_engine(store=store, seeds=seeds, top_k=top_k)
        self.turns: list[Answer] = []
        self._focus: dict[int, str] = {}  # id(answer) → the self-contained question it answered

    def ask(
        self,
        question: str,
        *,
        since: str | None = None,
        until: str | None = None,
        sources: str | Iterable[str] | None = None,
    ) -> Answer:
        previous = self.turns[-1] if self.turns else None
        text = clean_question(question)
        asked = self._focus.get(id(previous), "") if previous else ""
        query, focus = rewrite(text, previous, asked)
        follows = previous is not None and query != text
        answer = self.engine.ask(
            text,
            query=query,
            focus=focus,
            filters=Filters.build(since, until, sources),
            prefer_files=frozenset(s.file for s in previous.sources)
            if follows and previous
            else frozenset(),
        )
        self.turns.append(answer)
        self._focus[id(answer)] = focus
        return answer

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
