"""The public result types: an Answer with numbered, verbatim Sources and its answer spans."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from qa.retrieval import Hit


@dataclass(frozen=True)
class Source:
    """Citation [n]: `quote == qa.read_article(seeds / file)[start:end]`.

    `entities` are the named-entity spans inside the quote: (start, end, label), file offsets.
    """

    n: int
    file: str
    title: str | None
    date: str | None
    author: str | None
    quote: str
    start: int
    end: int
    score: float
    entities: tuple[tuple[int, int, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["entities"] = [list(e) for e in self.entities]
        return data


@dataclass(frozen=True)
class Span:
    """The part of a quote that answers the question.

    `start`/`end` are offsets in the article file of source [n]; `at`/`to` the same span's
    offsets in `Answer.text`. Renderers bold `answer.text[at:to]`; the text holds no markup.
    """

    n: int
    start: int
    end: int
    at: int
    to: int
    label: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """`text` carries markers [1]…[N]; `sources[n-1]` is citation [n]; found=False → no sources.

    `confidence` is the answerability model's probability; `warnings` notes the user must see.
    """

    question: str
    text: str
    sources: list[Source] = field(default_factory=list)
    found: bool = True
    query: str = ""  # the query actually searched (a follow-up's rewrite), "" if unchanged
    spans: list[Span] = field(default_factory=list)
    confidence: float = 0.0
    warnings: tuple[str, ...] = ()  # notes the user must see with the answer (incomplete store…)
    answered_by: str = ""  # "" for the extractive reader, else the LLM's label ("ollama:MODEL")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "text": self.text,
            "found": self.found,
            "query": self.query or self.question,
            "confidence": round(self.confidence, 4),
            "warnings": list(self.warnings),
            "spans": [s.to_dict() for s in self.spans],
            "sources": [s.to_dict() for s in self.sources],
        }
        if self.answered_by:
            data["answered_by"] = self.answered_by
        return data

    def marked(self, before: str = "**", after: str = "**") -> str:
        """`text` with every answer span wrapped in `before`…`after` (e.g. Markdown bold)."""
        out, cursor = [], 0
        for span in sorted(self.spans, key=lambda s: s.at):
            if span.at < cursor:
                continue
            out += [self.text[cursor : span.at], before, self.text[span.at : span.to], after]
            cursor = span.to
        out.append(self.text[cursor:])
        return "".join(out)


class Answerer(Protocol):
    """Reads an answer out of retrieved chunks: the extractive `qa.reader.Reader`, or a
    generative answerer (`qa.generative`) that returns the same types."""

    def answer(
        self,
        question: str,
        query: str,
        hits: list[Hit],
        prefer: frozenset[str] = ...,
        focus: str | None = ...,
    ) -> Answer: ...


# What `Chat.ask_stream()` yields, in this order: one Passages, any number of Deltas, one Done.


@dataclass(frozen=True)
class Passages:
    """The numbered passages the answer is written from, before the first token: `sources[n-1]`
    is passage [n] as the streamed text cites it (the final Answer renumbers what it keeps)."""

    sources: list[Source]


@dataclass(frozen=True)
class Delta:
    """Text the model just wrote (unchecked: its [n] refer to `Passages.sources`)."""

    text: str


@dataclass(frozen=True)
class Done:
    """The checked answer: every sentence supported by its cited sources, which it renumbers."""

    answer: Answer


StreamEvent = Passages | Delta | Done
