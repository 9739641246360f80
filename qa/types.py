"""The public result types: an Answer with numbered, verbatim Sources."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """Citation [n]: `quote == open(seeds/file, encoding="utf-8").read()[start:end]`."""

    n: int
    file: str
    title: str | None
    date: str | None
    author: str | None
    quote: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """`text` carries markers [1]…[N]; `sources[n-1]` is citation [n]; found=False → no sources."""

    question: str
    text: str
    sources: list[Source] = field(default_factory=list)
    found: bool = True
    query: str = ""  # the query actually searched (a follow-up's rewrite), "" if unchanged

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "found": self.found,
            "query": self.query or self.question,
            "sources": [s.to_dict() for s in self.sources],
        }
