"""Follow-up questions: pronouns and ellipsis resolved against the previous turn's structured
answer (its answer spans and the entity spans of its quote), never against rendered text."""

from __future__ import annotations

import re

from qa.reader.question import analyse
from qa.text import STOPWORDS, names_word, plain_words, words
from qa.types import Answer

_PERSON_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|himself|herself)\b", re.IGNORECASE)
_THING_PRONOUN = re.compile(r"\b(it|its|they|them|their|theirs)\b", re.IGNORECASE)
_OTHER_REFERENCE = re.compile(r"\b(there|that|this|those|these|the same)\b", re.IGNORECASE)
_ELLIPTIC_START = re.compile(r"^\s*(and|what about|how about|also|same for)\b", re.IGNORECASE)
_QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
PERSON_LABELS = frozenset({"PERSON"})
THING_LABELS = frozenset({"ORG", "GPE", "NORP", "PRODUCT", "WORK_OF_ART", "EVENT", "FAC", "LOC"})


def needs_context(question: str) -> bool:
    return bool(
        _PERSON_PRONOUN.search(question)
        or _THING_PRONOUN.search(question)
        or _OTHER_REFERENCE.search(question)
        or _ELLIPTIC_START.search(question)
        or len(words(question)) <= 3
    )


def referent(previous: Answer, asked: str, labels: frozenset[str]) -> str | None:
    """Who or what a pronoun means: the previous answer's span of that kind; else, from its quote,
    an entity of that kind the previous question did not name if that question asked for that
    kind ("Who runs X? / What did he say?": he is the answer), else one it named ("What did
    Blair say …? / When did he say it?"), then the rest in quote order. Names are matched
    ignoring a possessive "'s" and one misspelt letter."""
    for span in previous.spans:
        if span.label in labels:
            return span.text
    if not previous.sources:
        return None
    source = previous.sources[0]
    found = [
        " ".join(source.quote[s - source.start : e - source.start].split())
        for s, e, label in source.entities
        if label in labels
    ]
    asked_words = plain_words(asked)
    named = [t for t in found if any(names_word(w, asked_words) for w in plain_words(t))]
    unnamed = [t for t in found if t not in named]
    first, second = (unnamed, named) if analyse(asked).primary & labels else (named, unnamed)
    return (first + second)[0] if found else None


def _context_words(asked: str) -> list[str]:
    return [
        w for w in words(asked) if w.lower() not in STOPWORDS and w.lower() not in _QUESTION_WORDS
    ]


def rewrite(question: str, previous: Answer | None, asked: str = "") -> tuple[str, str]:
    """(query to search, focus) for `question` after `previous`, which answered `asked`.

    The focus is the question with its pronouns resolved; the query adds the previous turn's
    context words. Both equal the question when it is self-contained.
    """
    if previous is None or not needs_context(question):
        return question, question
    asked = asked or previous.question
    person = referent(previous, asked, PERSON_LABELS)
    thing = referent(previous, asked, THING_LABELS)

    def substitute(pattern: re.Pattern[str], name: str | None, text: str) -> str:
        if not name:
            return text

        def replace(m: re.Match[str]) -> str:
            possessive = m.group(1).lower() in ("his", "hers", "its", "their", "theirs")
            return f"{name}'s" if possessive else name

        return pattern.sub(replace, text)

    focus = substitute(_PERSON_PRONOUN, person, question)
    focus = substitute(_THING_PRONOUN, thing, focus)
    extra = [w for w in _context_words(asked) if w.lower() not in focus.lower()]
    query = f"{focus} {' '.join(dict.fromkeys(extra))}" if extra else focus
    return query, focus
