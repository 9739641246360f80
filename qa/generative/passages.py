"""The numbered passages a generative answer is written from: retrieved chunks with their file
offsets, sentences and entity spans, so every quote can be cut verbatim from the article."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from qa.retrieval import Hit
from qa.sentences import split_sentences
from qa.types import Answer, Source

MAX_PASSAGES = 6  # ~1,200 prompt tokens: small local models stay fast and on topic


@dataclass(frozen=True)
class Passage:
    """Passage [n]: `text` is `article_text[start:start + len(text)]`."""

    n: int
    file: str
    title: str | None
    date: str | None
    author: str | None
    start: int
    text: str
    score: float
    entities: tuple[tuple[int, int, str], ...]
    sentences: tuple[tuple[int, int], ...]  # file offsets of each sentence

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def cut(self, start: int, end: int) -> str:
        """The article's text between two file offsets inside this passage."""
        return self.text[start - self.start : end - self.start]

    def source(self, n: int, start: int, end: int, score: float) -> Source:
        """Citation [n] quoting this passage's file offsets [start, end)."""
        return Source(
            n=n,
            file=self.file,
            title=self.title,
            date=self.date,
            author=self.author,
            quote=self.cut(start, end),
            start=start,
            end=end,
            score=round(score, 4),
            entities=tuple(x for x in self.entities if x[0] >= start and x[1] <= end),
        )

    def whole(self) -> Source:
        """The passage itself as a Source numbered [n] (what the model is shown)."""
        return self.source(self.n, self.start, self.end, self.score)


def _entities(meta: dict[str, Any]) -> tuple[tuple[int, int, str], ...]:
    raw, base = meta.get("entities"), int(meta.get("start", 0))
    try:
        spans = json.loads(raw) if isinstance(raw, str) else []
        return tuple((base + int(s), base + int(e), str(label)) for s, e, label in spans)
    except (ValueError, TypeError):
        return ()


def _holds(hit: Hit, answer: Answer | None) -> bool:
    if answer is None or not answer.sources:
        return False
    source, base = answer.sources[0], int(hit.meta.get("start", 0))
    return bool(
        hit.meta.get("file") == source.file
        and base <= source.start
        and source.end <= base + len(hit.text)
    )


def passages(
    hits: list[Hit], extractive: Answer | None = None, limit: int = MAX_PASSAGES
) -> list[Passage]:
    """The best chunks as passages [1]…[k]; the chunk the extractive reader quoted comes first."""
    ordered = sorted(hits, key=lambda h: not _holds(h, extractive))[:limit]
    out = []
    for n, hit in enumerate(ordered, start=1):
        meta, base = hit.meta, int(hit.meta.get("start", 0))
        out.append(
            Passage(
                n=n,
                file=str(meta.get("file", "")),
                title=str(meta["title"]) if meta.get("title") else None,
                date=str(meta["date"]) if meta.get("date") else None,
                author=str(meta["author"]) if meta.get("author") else None,
                start=base,
                text=hit.text,
                score=round(hit.fused, 4),
                entities=_entities(meta),
                sentences=tuple(split_sentences(hit.text, base)),
            )
        )
    return out
