"""Deterministic pseudo-vectors for the bench's scale mode (`newsqa bench --vectors hashed`).

Embedding 100,000 articles with MiniLM takes hours on two cores, and its cost is linear and
measured separately, so the scale mode stores these instead: each row is a unit vector drawn from
a generator seeded with the sha256 of its text. The same text always gives the same vector, so a
re-ingest and a second run agree; the vectors carry no meaning, so answer accuracy on a hashed
store is not measured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from qa.ingestion import Tagger

DIMENSIONS = 384  # all-MiniLM-L6-v2's width: a hashed store answers real query vectors


class HashedEmbedding:
    """`embed(texts)` like `qa.embedder.MiniLMEmbedding`, without a model."""

    dimensions = DIMENSIONS

    def __init__(self) -> None:
        self.texts_embedded = 0  # how many texts this instance has turned into vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32, each row L2-normalised and a function of its text alone."""
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
            rng = np.random.default_rng(int.from_bytes(digest, "big"))
            vector = rng.standard_normal(DIMENSIONS, dtype=np.float32)
            out[row] = vector / np.linalg.norm(vector)
        self.texts_embedded += len(texts)
        return out


def no_entities(texts: list[str]) -> list[list[tuple[int, int, str]]]:
    """A tagger that finds nothing: spaCy's NER is linear in the text and measured on its own."""
    return [[] for _ in texts]


_: Tagger = no_entities  # keeps the signature in line with qa.ingestion's
