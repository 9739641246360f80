"""A candidate answer sentence: where it sits, what surrounds it, how it scored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qa.entities import person_names
from qa.text import terms

_PRONOUN_START = re.compile(r"^\W*(?:He|She|His|Her)\b")


@dataclass(frozen=True)
class Candidate:
    """A sentence (or a trimmed part of one) of a retrieved chunk, at its file offsets."""

    hit_rank: int
    meta: dict[str, Any]
    start: int
    end: int
    text: str
    chunk_terms: frozenset[str]
    chunk_text: str
    chunk_start: int
    chunk_dense: float = 0.0
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    type_ok: bool = False
    antecedent: frozenset[str] = frozenset()  # terms of the person a leading "He"/"She" means
    attribution: str = ""  # who said this: "This is what X said" after it, "X said: “…" before


def antecedent_terms(text: str, before: str) -> frozenset[str]:
    """For a sentence opening with "He"/"She", the terms of the previous sentence's first person
    ("… Valery Petrov also said …. *He* stressed …" → valery, petrov)."""
    if not _PRONOUN_START.match(text):
        return frozenset()
    named = person_names(before)
    return frozenset(terms(named[0][2])) if named else frozenset()
