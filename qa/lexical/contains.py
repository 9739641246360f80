"""Lexical retrieval through Chroma's own full-text index (`where_document` `$contains`).

For a Chroma server, where nothing can sit beside the collection: the server finds, for each
question term, up to `CAP` chunks whose text holds it; the client counts them as the term's
document frequency (a term in `CAP` chunks or more is common, and its IDF is that of a term in
exactly `CAP`), scores every matching chunk by the IDF of the terms it holds, fetches the texts
of the best few and ranks those by BM25 on its own terms. Nothing is downloaded beyond those
chunks, and a client needs no local state: any client sees what any other ingested.

`$contains` is a case-sensitive substring match, so each term is looked up by a stem prefix in
lowercase, capitalised and upper case; substring hits that are not the word ("rain" in
"Ukraine") are dropped by the BM25 on the fetched text.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from qa.filters import Filters
from qa.text import terms

CAP = 1000  # chunks asked per term
POOL = 64  # chunks fetched and scored exactly per question
_K1, _B = 1.2, 0.75


def search_key(term: str) -> str:
    """The substring to look for: the stem less a final y/e that stemming may have put there
    ("company" finds "companies" through "compan")."""
    return term[:-1] if len(term) > 4 and term.endswith(("y", "e")) else term


class ContainsIndex:
    """BM25-ranked lexical search served by a Chroma collection's full-text index."""

    def __init__(self, collection: Any, size: Callable[[], int]) -> None:
        self.collection = collection
        self._size = size
        self._lock = threading.Lock()
        self._matches: dict[tuple[str, str], list[str]] = {}  # (term, filter) → chunk ids
        self._total: int | None = None

    @property
    def size(self) -> int:
        if self._total is None:
            self._total = int(self._size())
        return self._total

    def _ids_with(self, term: str, filters: Filters) -> list[str]:
        """Chunk ids (up to CAP) whose text holds the term, cached for this open store."""
        where = filters.chroma_where()
        key = (term, repr(where))
        with self._lock:
            hit = self._matches.get(key)
        if hit is not None:
            return hit
        word = search_key(term)
        variants = [{"$contains": v} for v in sorted({word, word.capitalize(), word.upper()})]
        found = self.collection.get(
            where_document={"$or": variants} if len(variants) > 1 else variants[0],
            **({"where": where} if where else {}),
            include=[],
            limit=CAP,
        )
        ids = list(found["ids"])
        with self._lock:
            self._matches[key] = ids
        return ids

    def _idf_of(self, df: int) -> float:
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        return self._idf_of(max(1, len(self._ids_with(term, Filters()))))

    def known(self, term: str) -> bool:
        return bool(self._ids_with(term, Filters()))

    def search(self, query: str, k: int, filters: Filters) -> list[tuple[str, float]]:
        wanted = sorted(set(terms(query)))
        if not wanted or k <= 0 or not self.size:
            return []
        idf: dict[str, float] = {}
        rough: dict[str, float] = {}
        for term in wanted:
            ids = self._ids_with(term, filters)
            if ids:
                idf[term] = self._idf_of(len(ids))
                for chunk_id in ids:
                    rough[chunk_id] = rough.get(chunk_id, 0.0) + idf[term]
        pool = sorted(rough, key=lambda c: (-rough[c], c))[: max(POOL, k)]
        if not pool:
            return []
        docs = self.collection.get(ids=pool, include=["documents"])
        scored = []
        for chunk_id, doc in zip(docs["ids"], docs["documents"] or [], strict=True):
            score = bm25(idf, Counter(terms(doc or "")))
            if score > 0:
                scored.append((chunk_id, score))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:k]

    def close(self) -> None:
        return None


def bm25(idf: dict[str, float], counts: Counter[str], average: float = 100.0) -> float:
    length = sum(counts.values())
    norm = _K1 * (1 - _B + _B * length / average)
    return sum(w * counts[t] * (_K1 + 1) / (counts[t] + norm) for t, w in idf.items() if counts[t])
