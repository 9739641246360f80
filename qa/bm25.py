"""A small in-memory BM25 (Okapi) index over the store's chunks, built from Chroma's documents."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from qa.text import terms


class BM25Index:
    """Okapi BM25 with k1=1.2, b=0.75; `search` can be restricted to a boolean row mask."""

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(documents)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = np.zeros(self.size, dtype=np.float32)
        for row, doc in enumerate(documents):
            counts = Counter(terms(doc))
            lengths[row] = sum(counts.values())
            for term, tf in counts.items():
                postings[term].append((row, tf))
        avg = float(lengths.mean()) if self.size else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.idf: dict[str, float] = {}
        for term, plist in postings.items():
            rows = np.fromiter((r for r, _ in plist), dtype=np.int64, count=len(plist))
            freqs = np.fromiter((t for _, t in plist), dtype=np.float32, count=len(plist))
            idf = math.log(1 + (self.size - len(plist) + 0.5) / (len(plist) + 0.5))
            self.idf[term] = idf
            self._postings[term] = (rows, idf * freqs * (k1 + 1) / (freqs + norm[rows]))

    def term_idf(self, term: str) -> float:
        """IDF of a stemmed term; unseen terms get the IDF of a term seen once."""
        return self.idf.get(term, math.log(1 + (self.size + 0.5) / 1.5))

    def rows_with(self, term: str) -> np.ndarray:
        """Rows whose text contains the stemmed `term`."""
        hit = self._postings.get(term)
        return hit[0] if hit is not None else np.zeros(0, dtype=np.int64)

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.float32)
        for term in sorted(set(terms(query))):  # a fixed order: float sums that never vary
            hit = self._postings.get(term)
            if hit is not None:
                out[hit[0]] += hit[1]
        return out

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k (row, score) with score > 0, among rows where `mask` is True."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, int((scores > 0).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(r), float(scores[r])) for r in top]
