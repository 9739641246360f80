"""Follow-up questions: resolve pronouns and ellipsis against the previous turn (no LLM)."""

from __future__ import annotations

import re

from qa.entities import person_names
from qa.question import analyse
from qa.text import STOPWORDS, words
from qa.types import Answer

_PERSON_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|himself|herself)\b", re.IGNORECASE)
_OTHER_REFERENCE = re.compile(
    r"\b(they|them|their|there|it|its|that|this|those|these|the same)\b", re.IGNORECASE
)
_ELLIPTIC_START = re.compile(r"^\s*(and|what about|how about|also|same for)\b", re.IGNORECASE)
_QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}


def _answer_person(previous: Answer) -> str | None:
    """The person the previous turn was about: its answer for a who-question, else its subject."""
    asked = previous.query or previous.question
    asked_lower = asked.lower()
    bold = re.findall(r"\*\*(.+?)\*\*", previous.text)
    # A who-answer's bold span is a person (a full name, or a surname the articles use alone).
    if previous.found and bold and analyse(asked).kind == "who" and bold[0][:1].isupper():
        return str(bold[0])
    if previous.found and previous.sources and analyse(asked).kind == "who":
        for _, _, name in person_names(previous.sources[0].quote):
            if not all(tok.lower() in asked_lower for tok in name.split()):
                return name
    named = person_names(asked)
    if named:
        return named[0][2]
    if previous.found and previous.sources:
        names = person_names(previous.sources[0].quote)
        if names:
            return names[0][2]
    return None


def _context_words(previous: Answer) -> list[str]:
    asked = previous.query or previous.question
    return [
        w for w in words(asked) if w.lower() not in STOPWORDS and w.lower() not in _QUESTION_WORDS
    ]


def needs_context(question: str) -> bool:
    return bool(
        _PERSON_PRONOUN.search(question)
        or _OTHER_REFERENCE.search(question)
        or _ELLIPTIC_START.search(question)
        or len(words(question)) <= 3
    )


def rewrite(question: str, previous: Answer | None) -> tuple[str, str]:
    """(query to search, focus) for `question` given the previous turn.

    The focus is the question with its pronouns resolved; the query adds the previous turn's
    context words. Both equal the question when it is self-contained.
    """
    if previous is None or not needs_context(question):
        return question, question
    person = _answer_person(previous)
    rewritten = question
    if person and _PERSON_PRONOUN.search(question):

        def name_for(m: re.Match[str]) -> str:
            pronoun = m.group(1).lower()
            return f"{person}'s" if pronoun in ("his", "hers") else str(person)

        rewritten = _PERSON_PRONOUN.sub(name_for, question)
        if not _OTHER_REFERENCE.search(question) and not _ELLIPTIC_START.search(question):
            return rewritten, rewritten
    extra = [w for w in _context_words(previous) if w.lower() not in rewritten.lower()]
    if person and person not in rewritten:
        extra.append(person)
    return (f"{rewritten} {' '.join(dict.fromkeys(extra))}" if extra else rewritten), rewritten
