"""Stage 2, candidates: takes the retrieved chunks, gives their sentences and adjacent pairs.

Every candidate carries its file offsets (`file_text[start:end] == text`), the entity spans
stored at ingest that fall inside it, its neighbours' text and the rank of its chunk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from qa.retrieval import Hit
from qa.sentences import split_sentences

MAX_PAIR_WORDS = 60  # a pair longer than this would make too long an answer


@dataclass(frozen=True)
class Candidate:
    """One sentence (or two adjacent ones) of a retrieved chunk."""

    file: str
    title: str
    date: str | None
    author: str | None
    start: int  # file offsets
    end: int
    text: str
    window: str  # the candidate with the sentence before and after it
    entities: tuple[tuple[int, int, str], ...]  # file offsets, inside [start, end)
    chunk_rank: int  # 0 = the best fused chunk
    dense_rank: int  # rank of its chunk in dense order among the hits
    bm25_rank: int
    chunk_dense: float
    chunk_bm25: float
    position: int  # sentence number in its chunk
    first_chunk: bool  # its chunk opens the article
    is_pair: bool


def _entities(meta: dict[str, Any]) -> list[tuple[int, int, str]]:
    raw = meta.get("entities")
    base = int(meta.get("start", 0))
    try:
        spans = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return []
    return [(base + int(s), base + int(e), str(label)) for s, e, label in spans]


def _ranks(values: list[float]) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: -values[i])
    ranks = [0] * len(values)
    for rank, i in enumerate(order):
        ranks[i] = rank
    return ranks


def candidates(hits: list[Hit]) -> list[Candidate]:
    """Sentences and adjacent pairs of `hits`, each sentence once (from its best chunk)."""
    dense_ranks = _ranks([h.dense for h in hits])
    bm25_ranks = _ranks([h.bm25 for h in hits])
    seen: set[tuple[str, int, int]] = set()
    out: list[Candidate] = []
    for rank, hit in enumerate(hits):
        meta = hit.meta
        file, base = str(meta.get("file", "")), int(meta.get("start", 0))
        date = meta.get("date")
        entities = _entities(meta)
        spans = split_sentences(hit.text, base)
        texts = [hit.text[s - base : e - base] for s, e in spans]
        for i, (start, end) in enumerate(spans):
            ends = [end]
            if i + 1 < len(spans):
                pair_text = hit.text[start - base : spans[i + 1][1] - base]
                if len(pair_text.split()) <= MAX_PAIR_WORDS:
                    ends.append(spans[i + 1][1])
            for stop in ends:
                if (file, start, stop) in seen:
                    continue
                seen.add((file, start, stop))
                out.append(
                    Candidate(
                        file=file,
                        title=str(meta.get("title") or ""),
                        date=str(date) if date else None,
                        author=str(meta["author"]) if meta.get("author") else None,
                        start=start,
                        end=stop,
                        text=hit.text[start - base : stop - base],
                        window=" ".join(texts[max(0, i - 1) : i + 2 + (stop != end)]),
                        entities=tuple(x for x in entities if x[0] >= start and x[1] <= stop),
                        chunk_rank=rank,
                        dense_rank=dense_ranks[rank],
                        bm25_rank=bm25_ranks[rank],
                        chunk_dense=hit.dense,
                        chunk_bm25=hit.bm25,
                        position=i,
                        first_chunk=int(meta.get("chunk_index", 1)) == 0,
                        is_pair=stop != end,
                    )
                )
    return out
