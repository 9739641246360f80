"""Hybrid retrieval: dense Chroma search fused with BM25 by reciprocal rank fusion.

Nothing is loaded at open: the dense side is one Chroma query, the lexical side one query of the
store's lexical index (`qa.lexical`), and only the chunks they return are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.filters import Filters
from qa.lexical import LexicalIndex
from qa.store import Store

RRF_K = 60
# Duplicate stories give chunks with exactly equal cosines, which the HNSW graph returns in an
# order that differs from one ingest to the next. Ties are put in id order, and a few more
# neighbours than asked for are read so that ties at the cut are settled the same way.
DENSE_SLACK = 8


def _tied_ranks(ranking: list[tuple[str, float]]) -> list[tuple[str, int]]:
    """(chunk id, rank) down a ranking; equal scores share the best rank of their run."""
    out: list[tuple[str, int]] = []
    for i, (chunk_id, score) in enumerate(ranking):
        out.append((chunk_id, out[-1][1] if i and score == ranking[i - 1][1] else i))
    return out


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its scores (dense cosine, BM25, fused RRF)."""

    chunk_id: str
    text: str
    meta: dict[str, Any]
    dense: float
    bm25: float
    fused: float


def _public(meta: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (meta or {}).items() if not k.startswith("_")}


class HybridRetriever:
    """Dense (the collection's HNSW index) + BM25 (the lexical index) over the same chunks."""

    def __init__(
        self, store: Store, embedder: Any, lexical: LexicalIndex, mode: str = "hybrid"
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.lexical_index = lexical
        self.mode = mode

    def embed_query(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.embed([query])[0])

    def dense(
        self, vector: np.ndarray, k: int, filters: Filters
    ) -> list[tuple[str, float, str, dict[str, Any]]]:
        """Top-k (chunk id, cosine, text, metadata) by the query vector (ties: id order)."""
        where = filters.chroma_where()
        result = self.store.collection.query(
            query_embeddings=[vector.astype(np.float32)],
            n_results=k + DENSE_SLACK,
            include=["documents", "metadatas", "distances"],
            **({"where": where} if where else {}),
        )
        ids = result["ids"][0] if result["ids"] else []
        docs = (result.get("documents") or [[]])[0] or [None] * len(ids)
        metas = (result.get("metadatas") or [[]])[0] or [None] * len(ids)
        distances = (result.get("distances") or [[]])[0] or [1.0] * len(ids)
        rows = [
            (str(i), 1.0 - float(d), doc or "", _public(m))
            for i, d, doc, m in zip(ids, distances, docs, metas, strict=True)
        ]
        return sorted(rows, key=lambda row: (-row[1], row[0]))[:k]

    def lexical(self, query: str, k: int, filters: Filters) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25) from the lexical index."""
        return self.lexical_index.search(query, k, filters)

    def retrieve(
        self, query: str, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> list[Hit]:
        """Top-k chunks; `mode` is 'dense', 'bm25' or 'hybrid' (the ablations of `newsqa eval`)."""
        filters = filters or Filters()
        pool = max(k * 2, 16)
        dense = self.dense(vector, pool, filters) if self.mode != "bm25" else []
        lexical = self.lexical(query, pool, filters) if self.mode != "dense" else []
        fused: dict[str, float] = {}
        for ranking in ([(d[0], d[1]) for d in dense], lexical):
            for chunk_id, rank in _tied_ranks(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        rows = {d[0]: (d[2], d[3]) for d in dense}
        dense_of, bm25_of = {d[0]: d[1] for d in dense}, dict(lexical)
        top = sorted(fused, key=lambda c: (-fused[c], c))[:k]
        rows.update(self._read([c for c in top if c not in rows]))
        return [
            Hit(c, rows[c][0], rows[c][1], dense_of.get(c, 0.0), bm25_of.get(c, 0.0), fused[c])
            for c in top
            if c in rows  # a chunk deleted between the index query and this read is skipped
        ]

    def _read(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """Texts and metadata of the chunks only the lexical side found."""
        if not ids:
            return {}
        got = self.store.collection.get(ids=ids, include=["documents", "metadatas"])
        docs = got.get("documents") or [None] * len(got["ids"])
        metas = got.get("metadatas") or [None] * len(got["ids"])
        return {
            str(i): (doc or "", _public(m))
            for i, doc, m in zip(got["ids"], docs, metas, strict=True)
        }
