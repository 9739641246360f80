"""The generative answerer: the extractive reader decides answerability first; then the LLM
writes from the numbered passages, and only what the citation check keeps is answered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from typing import Any

from qa.generative.backends import Backend, BackendError
from qa.generative.check import Checked, check
from qa.generative.passages import Passage, passages
from qa.generative.prompt import build_messages
from qa.generative.stream import AnswerStream
from qa.generative.support import SupportScorer
from qa.reader import Reader
from qa.reader.answer import NOT_FOUND_TEXT
from qa.retrieval import Hit
from qa.types import Answer, Delta, Done, Passages, Source, Span, StreamEvent

FALLBACK = "showing the extractive answer"


class GenerativeAnswerer:
    """Same interface as `qa.reader.Reader` (`answer(question, query, hits, prefer, focus)`),
    plus `stream()` for an answer shown token by token."""

    def __init__(self, reader: Reader, backend: Backend, embedder: Any, timeout: float) -> None:
        self.reader = reader
        self.backend = backend
        self.embedder = embedder
        self.timeout = timeout

    @property
    def label(self) -> str:
        return self.backend.label

    def answer(
        self,
        question: str,
        query: str,
        hits: list[Hit],
        prefer: frozenset[str] = frozenset(),
        focus: str | None = None,
    ) -> Answer:
        """The checked answer, in one request (no streaming)."""
        extractive = self.reader.answer(question, query, hits, prefer, focus)
        return self.stream(extractive, hits, focus or question, streaming=False).result()

    def stream(
        self,
        extractive: Answer,
        hits: list[Hit],
        question: str,
        *,
        streaming: bool = True,
        on_answer: Callable[[Answer], None] | None = None,
    ) -> AnswerStream:
        """Events for `question` (self-contained) over `hits`, given the extractive answer."""

        def events(cancelled: threading.Event) -> Generator[StreamEvent, None, None]:
            if not extractive.found:  # the answerability model refuses first: no LLM call
                yield Passages([])
                yield Done(extractive)
                return
            found = passages(hits, extractive, self.backend.passages)
            yield Passages([p.whole() for p in found])
            pieces: list[str] = []
            try:
                for piece in self._generate(build_messages(question, found), streaming):
                    if cancelled.is_set():
                        return
                    pieces.append(piece)
                    yield Delta(piece)
            except BackendError as exc:
                yield Done(_fallback(extractive, f"{exc}; {FALLBACK}"))
                return
            scorer = SupportScorer(self.reader.lexicon.idf, self.embedder.embed)
            yield Done(self.compose(extractive, found, check("".join(pieces), found, scorer)))

        return AnswerStream(events, on_answer, self.label)

    def _generate(
        self, messages: list[tuple[str, str]], streaming: bool
    ) -> Generator[str, None, None]:
        """The reply's pieces; past the deadline (or on any backend failure) a BackendError."""
        if not streaming:
            yield self.backend.complete(messages)
            return
        deadline = time.monotonic() + self.timeout
        pieces = self.backend.stream(messages)
        try:
            for piece in pieces:
                yield piece
                if time.monotonic() > deadline:
                    raise BackendError(
                        f"the LLM {self.backend.spec.where} failed: it did not finish its "
                        f"answer within {self.timeout:g} s"
                    )
        finally:
            pieces.close()

    def compose(self, extractive: Answer, found: list[Passage], checked: Checked) -> Answer:
        """The Answer the check allows: kept sentences, renumbered sources, carried spans."""
        label = self.label
        if checked.refused:
            return replace(
                extractive,
                text=NOT_FOUND_TEXT,
                found=False,
                sources=[],
                spans=[],
                answered_by=label,
            )
        if not checked.kept:
            why = "it cites no passage that supports it" if checked.sentences else "it was empty"
            return _fallback(extractive, f"{label}'s answer was not used: {why}; {FALLBACK}")
        built = _Built()
        for sentence in checked.kept:
            numbers = sorted(
                {
                    built.number(s.window.passage, s.window.start, s.window.end, s.score)
                    for s in sentence.supports
                }
            )
            claim = sentence.claim
            stop = claim[-1] if claim[-1] in ".!?" else "."
            body = claim[:-1].rstrip() if claim[-1] in ".!?" else claim
            built.parts.append(f"{body} {''.join(f'[{n}]' for n in numbers)}{stop}")
        text = " ".join(built.parts)
        notes = list(extractive.warnings)
        if checked.dropped:
            n = len(checked.dropped)
            notes.append(
                f"{n} sentence{'s' if n > 1 else ''} of {label}'s answer "
                f"{'were' if n > 1 else 'was'} dropped: no passage supports "
                f"{'them' if n > 1 else 'it'}"
            )
        return replace(
            extractive,
            text=text,
            sources=built.sources,
            spans=_carried_spans(extractive, text, built.sources),
            warnings=tuple(notes),
            answered_by=label,
        )


@dataclass
class _Built:
    """Sources numbered in order of first citation, one per supporting window."""

    sources: list[Source] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    _numbers: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def number(self, passage: Passage, start: int, end: int, score: float) -> int:
        key = (passage.file, start, end)
        if key not in self._numbers:
            self._numbers[key] = len(self.sources) + 1
            self.sources.append(passage.source(self._numbers[key], start, end, score))
        return self._numbers[key]


def _carried_spans(extractive: Answer, text: str, sources: list[Source]) -> list[Span]:
    """The extractive answer's spans, where the new text says them and a new source holds them
    (so follow-ups and bolding work the same way)."""
    out = []
    for span in extractive.spans:
        at = text.find(span.text)
        holder = next(
            (
                s
                for s in sources
                if s.file == extractive.sources[span.n - 1].file
                and s.start <= span.start
                and span.end <= s.end
            ),
            None,
        )
        if at >= 0 and holder is not None:
            out.append(replace(span, n=holder.n, at=at, to=at + len(span.text)))
    return out


def _fallback(extractive: Answer, note: str) -> Answer:
    return replace(extractive, warnings=(*extractive.warnings, note))


class Capture:
    """An answerer for `Engine.ask` that reads extractively and keeps the hits it was given:
    retrieval runs under the engine's lock, generation after it is released."""

    def __init__(self, reader: Callable[[], Reader]) -> None:
        self._reader = reader
        self.reader: Reader | None = None  # the reader that read (the engine's current one)
        self.hits: list[Hit] = []
        self.question = ""

    def answer(
        self,
        question: str,
        query: str,
        hits: list[Hit],
        prefer: frozenset[str] = frozenset(),
        focus: str | None = None,
    ) -> Answer:
        self.hits, self.question = list(hits), focus or question
        self.reader = self._reader()
        return self.reader.answer(question, query, hits, prefer, focus)
