"""Titles: the title a question asks about, and whose a title is ("Iranian Ambassador")."""

from __future__ import annotations

import re

from qa.text import countries_in

ROLE_NOUNS = frozenset(
    """prosecutor minister president ambassador envoy chief head leader spokesman spokeswoman
    spokesperson official diplomat general governor mayor secretary chairman commander director
    premier judge""".split()
)
RANK_WORDS = frozenset("chief top head senior leading deputy".split())
_GENERIC_PEOPLE = frozenset("official leader representative general".split())


_OF_OWNER = re.compile(
    r"^[\s-]*(?:[A-Za-z-]+\s+){0,2}?(?:of|from)\s+(?:the\s+)?((?:[A-Z][\w’'`-]*\s*(?:of\s+)?){1,4})"
)


def owner_countries(phrase: str) -> frozenset[str]:
    """Whose titles a phrase names: the country just before a title ("Iranian Ambassador to
    Russia" → iran, "Russia's ambassador to Azerbaijan" → russia) or right after it with "of"
    ("Prosecutor General of the Republic of Azerbaijan" → azerbaijan). A country after "to" or
    "in" is where the holder serves, not whose they are. Without a title, every country named."""
    found: set[str] = set()
    titled = False
    for m in re.finditer(r"[A-Za-z]+", phrase):
        if m.group(0).lower() not in ROLE_NOUNS:
            continue
        titled = True
        before = " ".join(re.findall(r"[\w’'`-]+", phrase[: m.start()])[-3:])
        owners = countries_in(before)
        if not owners and (of := _OF_OWNER.match(phrase[m.end() :])):
            owners = countries_in(of.group(1))
        found |= owners
    return frozenset(found) if titled else frozenset(countries_in(phrase))


_WHO_IS = re.compile(
    r"^\s*(?:(?:who\s+(?:is|was|are|were)|what(?:['’]s|\s+is)\s+the\s+name\s+of)\s+"
    r"(.+?)(?:\s+who\b.*)?\??\s*$"
    r"|(?:which|what)\s+((?:[\w’'-]+\s+){0,3}?(?:"
    + "|".join(sorted(ROLE_NOUNS))
    + r")(?:\s+(?:to|in|of|from)\s+(?:the\s+)?[A-Z][\w’'-]*)?)\s+"
    r"(?:did|does|do|is|was|has|had|will|\w+ed|took|met|led|held|gave|made|spoke|went|"
    r"came|sent|saw)\b)",
    re.I,
)


def asked_title(question: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The title a "Who is the Prosecutor General of Iran?" or "Which Azerbaijani ambassador
    attended …?" question names: its role nouns and the countries it belongs to. Empty when
    the question names no title."""
    m = _WHO_IS.match(question)
    if not m:
        return (), frozenset()
    phrase = m.group(1) or m.group(2)
    roles = tuple(w.lower() for w in re.findall(r"[A-Za-z]+", phrase) if w.lower() in ROLE_NOUNS)
    if all(r in RANK_WORDS or r in _GENERIC_PEOPLE for r in roles):
        return (), frozenset()  # "the head of the delegation", "which official": no title
    return roles, owner_countries(phrase)
