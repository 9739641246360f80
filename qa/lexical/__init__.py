"""Lexical retrieval over the store without loading it: BM25 on a persistent index.

Two implementations of one interface. A folder store has its own SQLite postings index beside
Chroma's files (`postings.PostingsIndex`), written by ingest in the same pass as the vectors. A
Chroma server has nothing beside it, so a client searches the server's own full-text index
(`contains.ContainsIndex`), and needs no local state and no download of the corpus.
"""

from __future__ import annotations

from typing import Protocol

from qa.filters import Filters


class LexicalIndex(Protocol):
    """What retrieval and the reader ask of a lexical index."""

    def search(self, query: str, k: int, filters: Filters) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score > 0), best first."""
        ...

    def idf(self, term: str) -> float:
        """IDF of a stemmed term (an unseen term gets the IDF of a term seen once)."""
        ...

    def known(self, term: str) -> bool:
        """True if some chunk holds the stemmed term."""
        ...

    def close(self) -> None: ...
