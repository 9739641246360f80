"""Stage 1, question analysis: takes the question text, gives its terms, names and answer type.

The answer type is a set of spaCy entity labels chosen by the question's opening words
(`qa/data/answer_types.json`); names are the question's capitalised words past the first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from qa.text import STOPWORDS, drop_possessive, terms, words

_TYPES = Path(__file__).resolve().parent.parent / "data" / "answer_types.json"
_LIST_ASK = re.compile(r"\b(?:which|what|name|list|give)\s+(?:the\s+|all\s+)?(\w+)\b", re.I)
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
_QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
_IMPERATIVES = {"name", "list", "give", "tell", "describe", "explain", "state", "identify"}


@dataclass(frozen=True)
class Question:
    """What the pipeline needs to know of a question."""

    text: str
    terms: tuple[str, ...]  # stemmed content terms, in order, repeats dropped
    names: tuple[str, ...]  # capitalised words (a proper name's parts), lowercased
    kind: str  # the matched rule's kind, or "other"
    primary: frozenset[str]  # entity labels an answer should hold
    secondary: frozenset[str]  # labels that fit less well
    wants_quote: bool  # "What did X say …"
    wants_reason: bool  # "Why …"
    list_count: int  # "Which three …" → 3, else 0
    years: tuple[str, ...]  # four-digit years it names

    @property
    def typed(self) -> bool:
        return bool(self.primary)


@lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_TYPES.read_text(encoding="utf-8"))
    for rule in data["rules"]:
        rule["regex"] = re.compile(rule["pattern"], re.IGNORECASE)
    return data


def reason_cues() -> tuple[str, ...]:
    """Words and phrases that introduce a reason ("because", "due to")."""
    return tuple(_rules()["reason_cues"])


def _relative(text: str, at: int) -> bool:
    """Whether the wh-word at `at` opens a relative clause ("What … did Bert Ruerup, who chairs
    …"): it follows a comma, and a question word comes before it ("In the poll, what share …"
    asks with its first one)."""
    before = text[:at]
    return before.rstrip().endswith(",") and any(
        w.lower() in _QUESTION_WORDS for w in words(before)
    )


def _names(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for index, word in enumerate(words(text)):
        low = word.lower()
        if low in STOPWORDS or low in _QUESTION_WORDS or (index == 0 and low in _IMPERATIVES):
            continue
        if word[:1].isupper() or (word.isupper() and len(word) > 1):
            out.append(drop_possessive(low))
    return tuple(dict.fromkeys(out))


def _head_noun_labels(text: str, rules: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """Labels a terse question asks for by its last content words ("… Q4 profit?" → MONEY)."""
    content = [w.lower() for w in words(text) if w.lower() not in STOPWORDS]
    for word in reversed(content):
        primary: set[str] = set()
        secondary: set[str] = set()
        for labels, nouns in rules["head_nouns"].items():
            if word in nouns:
                first, *rest = labels.split()
                primary.add(first)
                secondary.update(rest)
        if primary:
            return frozenset(primary), frozenset(secondary - primary)
    return frozenset(), frozenset()


def analyse(text: str) -> Question:
    """The question's terms, names and the kind of answer it asks for."""
    rules = _rules()
    kind, primary, secondary, reason = "other", frozenset[str](), frozenset[str](), False
    # A question for somebody's words may still ask for a type ("According to X, how many …").
    quote = any(r["regex"].search(text) for r in rules["rules"] if r.get("quote"))
    best = None
    for rule in rules["rules"]:
        if rule.get("quote"):
            continue
        m = next((m for m in rule["regex"].finditer(text) if not _relative(text, m.start())), None)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), rule)
    if best is not None:
        rule = best[1]
        kind = rule["kind"]
        primary, secondary = frozenset(rule["primary"]), frozenset(rule["secondary"])
        reason = bool(rule.get("reason"))
    elif quote:
        kind = "said"
    else:
        primary, secondary = _head_noun_labels(text, rules)
        kind = "head_noun" if primary else kind
    count = 0
    asked = _LIST_ASK.search(text)
    if asked and asked.group(1).lower() in rules["list_counts"]:
        count = int(rules["list_counts"][asked.group(1).lower()])
    return Question(
        text=text,
        terms=tuple(dict.fromkeys(terms(text))),
        names=_names(text),
        kind=kind,
        primary=primary,
        secondary=secondary,
        wants_quote=quote,
        wants_reason=reason,
        list_count=count,
        years=tuple(_YEAR.findall(text)),
    )
