"""What a question asks for: its expected answer type and its content terms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.entities import person_names
from qa.text import stem, terms

_WHO = re.compile(
    r"^\s*(?:who|whom|whose)\b|\b(?:which|what)\s+(?:\w+\s+){0,2}(?:person|people|official|"
    r"officials|diplomat|ambassador|minister|prosecutor|president|leader|counterpart|man|woman|"
    r"envoy|head|chief|representative)s?\b|\bname\s+of\s+the\b|\bat whose\b|\bby whom\b",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"^\s*when\b|\b(?:what|which)\s+(?:date|day|month|year|time)\b|\bon what\b|\bhow long ago\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\bhow\s+(?:many|much|long|old|often)\b|\b(?:what|which)\s+(?:number|percentage|"
    r"anniversary|point|clause|item|share|amount)\b",
    re.IGNORECASE,
)
_WHERE = re.compile(
    r"^\s*where\b|\b(?:in|to|at|from)\s+(?:which|what)\s+(?:city|country|place|town|capital)\b|"
    r"\b(?:which|what)\s+(?:city|country|place|town|capital)\b",
    re.IGNORECASE,
)
_LIST = re.compile(
    r"\b(?:which|what|name|list)\s+(?:the\s+)?(?:two|three|four|five|six|seven|eight|nine|ten|"
    r"\d+)\b|\blist\b|\bwhat\s+(?:\w+\s+){0,2}(?:crimes|countries|states|threats|issues|areas|"
    r"topics|organi[sz]ations|measures|spheres|mechanisms)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QuestionInfo:
    """`kind` is one of who, when, number, where, list, what."""

    text: str
    kind: str
    terms: tuple[str, ...]
    name_parts: tuple[tuple[str, str], ...] = ()  # (first-name term, surname term) pairs

    @property
    def wants_several(self) -> bool:
        return self.kind == "list"


def analyse(question: str) -> QuestionInfo:
    if _LIST.search(question):
        kind = "list"
    elif _WHEN.search(question):
        kind = "when"
    elif _NUMBER.search(question):
        kind = "number"
    elif _WHERE.search(question):
        kind = "where"
    elif _WHO.search(question):
        kind = "who"
    else:
        kind = "what"
    parts: list[tuple[str, str]] = []
    for _, _, name in person_names(question):
        tokens = [stem(t) for t in name.split()]
        parts.extend((first, tokens[-1]) for first in tokens[:-1])
    return QuestionInfo(question, kind, tuple(dict.fromkeys(terms(question))), tuple(parts))
