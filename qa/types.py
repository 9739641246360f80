"""The public result types: an Answer with numbered, verbatim Sources and its answer spans."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "found": self.found,
            "query": self.query or self.question,
            "confidence": round(self.confidence, 4),
            "warnings": list(self.warnings),
            "spans": [s.to_dict() for s in self.spans],
            "sources": [s.to_dict() for s in self.sources],
        }

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
