"""Hybrid retrieval: dense Chroma search fused with BM25 by reciprocal rank fusion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.bm25 import BM25Index
from qa.filters import Filters
from qa.store import Store

RRF_K = 60


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its scores (dense cosine, BM25, fused RRF)."""

    chunk_id: str
    text: str
    meta: dict[str, Any]
    dense: float
    bm25: float
    fused: float


class HybridRetriever:
    """Dense (Chroma through llama-index's ChromaVectorStore) + BM25 over the same chunks."""

    def __init__(self, store: Store, embedder: Any, mode: str = "hybrid") -> None:
        self.store = store
        self.embedder = embedder
        self.mode = mode
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.metas: list[dict[str, Any]] = []
        for row_id, meta, doc in store.rows(include=["metadatas", "documents"]):
            self.ids.append(row_id)
            self.texts.append(doc or "")
            self.metas.append({k: v for k, v in meta.items() if not k.startswith("_")})
        self.row_of = {row_id: i for i, row_id in enumerate(self.ids)}
        self._bodies: dict[str, str] = {}
        self.bm25 = BM25Index(self.texts)

    def __len__(self) -> int:
        return len(self.ids)

    def embed_query(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.embed([query])[0])

    def dense(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        if not self.ids:
            return []
        where = filters.chroma_where()
        result = self.store.vector_store.query(
            VectorStoreQuery(query_embedding=[float(x) for x in vector], similarity_top_k=k),
            **({"where": where} if where else {}),
        )
        out = []
        for row_id, similarity in zip(result.ids or [], result.similarities or [], strict=True):
            row = self.row_of.get(row_id)
            if row is not None:  # cosine = 1 - distance; the store reports exp(-distance)
                out.append((row, 1.0 + float(np.log(max(similarity, 1e-12)))))
        return out

    def lexical(self, query: str, k: int, filters: Filters) -> list[tuple[int, float]]:
        mask = None
        if not filters.empty:
            mask = np.fromiter((filters.accepts(m) for m in self.metas), dtype=bool)
        return self.bm25.search(query, k, mask)

    def retrieve(
        self, query: str, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> list[Hit]:
        """Top-k chunks; `mode` is 'dense', 'bm25' or 'hybrid' (the ablations of `newsqa eval`)."""
        filters = filters or Filters()
        pool = max(k * 2, 16)
        dense = self.dense(vector, pool, filters) if self.mode != "bm25" else []
        lexical = self.lexical(query, pool, filters) if self.mode != "dense" else []
        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, (row, _) in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        dense_of, bm25_of = dict(dense), dict(lexical)
        rows = sorted(fused, key=lambda r: -fused[r])[:k]
        return [
            Hit(
                self.ids[r],
                self.texts[r],
                self.metas[r],
                dense_of.get(r, 0.0),
                bm25_of.get(r, 0.0),
                fused[r],
            )
            for r in rows
        ]
