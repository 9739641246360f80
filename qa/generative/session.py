"""Ties an engine to a generative answerer: retrieval and the extractive reading run under the
engine's lock (`Engine.ask` with a capturing answerer), generation after it is released."""

from __future__ import annotations

from collections.abc import Callable

from qa.engine import Engine
from qa.filters import Filters
from qa.generative.answerer import Capture, GenerativeAnswerer
from qa.generative.backends import open_backend
from qa.generative.spec import parse_spec
from qa.generative.stream import AnswerStream
from qa.types import Answer


def open_answerer(engine: Engine, spec: str | None) -> GenerativeAnswerer | None:
    """The generative answerer for `spec` over `engine`, None when the spec means "off"."""
    parsed = parse_spec(spec)
    if parsed is None:
        return None
    backend = open_backend(parsed, engine.settings)
    return GenerativeAnswerer(engine.reader, backend, engine.embedder, engine.settings.llm_timeout)


def start(
    engine: Engine,
    answerer: GenerativeAnswerer,
    question: str,
    *,
    query: str | None = None,
    focus: str | None = None,
    filters: Filters | None = None,
    prefer_files: frozenset[str] = frozenset(),
    streaming: bool = True,
    on_answer: Callable[[Answer], None] | None = None,
) -> AnswerStream:
    """Retrieve and read now (errors such as a bad filter raise here), generate on iteration."""
    capture = Capture(lambda: engine.reader)
    extractive = engine.ask(
        question,
        query=query,
        focus=focus,
        filters=filters,
        prefer_files=prefer_files,
        answerer=capture,
    )
    answerer.reader = capture.reader or engine.reader
    return answerer.stream(
        extractive, capture.hits, capture.question, streaming=streaming, on_answer=on_answer
    )
