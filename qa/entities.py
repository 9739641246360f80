"""Cheap entity spotting without a model: person names, dates, numbers, places."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MONTH_RE = "|".join(MONTHS)
DATE_RE = re.compile(
    rf"\b(?:(?:{_MONTH_RE})\s+\d{{1,2}}(?:\s*[-–]\s*\d{{1,2}})?(?:,?\s+\d{{4}})?|"
    rf"\d{{1,2}}\s+(?:{_MONTH_RE})(?:\s+\d{{4}})?|(?:{_MONTH_RE})\s+\d{{4}}|"
    rf"(?:early|late|mid|beginning of|end of)\s+(?:{_MONTH_RE})|"
    r"(?:January|February|March|April|June|July|August|September|October|November|December)|"
    r"(?:19|20)\d{2}|\d{4}-\d{2}-\d{2}|today|yesterday|tomorrow|last week|next week)\b",
    re.IGNORECASE,
)
NUMBER_RE = re.compile(
    r"\b(?:\d[\d,.]*(?:st|nd|rd|th)?(?:-\w+)?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)
# Capitalised words that are never parts of person names; qa/data/non_names.txt adds demonyms,
# places, titles and organisation words.
NOT_NAME = frozenset(
    """The A An In On At By For Of And But During As It This That These Those He She They His Her
    Their We Our I Mr Mrs Ms Dr President Prime Minister Prosecutor General Deputy Chief Office
    Ambassador Republic Federation Today Yesterday
    """.split()
)
_CAP = r"[A-Z][a-z]+(?:-[A-Z]?[a-z]+)?"


@lru_cache(maxsize=1)
def not_name_words() -> frozenset[str]:
    """NOT_NAME plus qa/data/non_names.txt (demonyms, titles, organisations, places)."""
    path = Path(__file__).resolve().parent / "data" / "non_names.txt"
    extra = path.read_text(encoding="utf-8").split() if path.exists() else []
    return NOT_NAME | frozenset(extra)


_CAP_RUN = re.compile(rf"\b{_CAP}(?:\s+{_CAP})+\b")
_TOKEN = re.compile(r"\S+")


def person_names(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of likely person names: 2–4 capitalised words, none a title/country.

    A run like "Colonel General Zakir Hasanov" is split at its non-name words.
    """
    out: list[tuple[int, int, str]] = []
    skip = not_name_words()
    for m in _CAP_RUN.finditer(text):
        group: list[re.Match[str]] = []
        for tok in [*_TOKEN.finditer(m.group(0)), None]:
            if (
                tok is not None
                and tok.group(0).rstrip("’'s,") not in skip
                and tok.group(0) not in skip
            ):
                group.append(tok)
                continue
            if 2 <= len(group) <= 4:
                start, end = m.start() + group[0].start(), m.start() + group[-1].end()
                out.append((start, end, text[start:end]))
            group = []
    return out


def name_tokens(texts: list[str]) -> frozenset[str]:
    """Every word that occurs inside a full person name somewhere in `texts` ("Krasnov")."""
    return frozenset(
        tok for text in texts for _, _, name in person_names(text) for tok in name.split()
    )


_ROLE = re.compile(
    r"\b(President|Prime Minister|Minister|Ambassador|Prosecutor[- ]General|King|Queen|Chancellor|"
    r"Secretary|Chairman|Speaker|Governor|Mayor|Pope|Premier)\b"
)


_ORGANISATION = re.compile(
    r"(?:['’`]s)?\s+(?:Office|Ministry|Service|Administration|Department|Council|Committee)\b"
)


def mentions_person(text: str, known: frozenset[str], exclude: set[str]) -> bool:
    """True if `text` names a person (full name, known surname, or role) outside `exclude`."""
    for m in _ROLE.finditer(text):  # a title names a person, not "the Prosecutor General's Office"
        if m.group(1).split()[0].lower() not in exclude and not _ORGANISATION.match(text, m.end()):
            return True
    for _, _, name in person_names(text):
        if not all(tok.lower() in exclude for tok in name.split()):
            return True
    for word in re.findall(r"[A-Z][a-z]+", text):
        if word in known and word.lower() not in exclude:
            return True
    return False
