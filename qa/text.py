"""Word normalisation shared by BM25 and answer scoring: lowercase, stopwords, light stemming."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into about over after before
    during between through is are was were be been being am do does did done have has had having
    this that these those it its it's he she they them their his her him we us our you your i me
    my who whom whose what which when where why how there here than then so such not no nor
    can could would should will shall may might must also just very much many more most some any
    all each both other own same only too s t said say says tell told according
    """.split()
)
_SUFFIXES = (
    "ations",
    "ation",
    "ated",
    "ates",
    "ate",
    "ments",
    "ment",
    "ings",
    "ing",
    "ies",
    "ied",
    "ed",
    "es",
    "s",
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light stemmer: 'meetings'/'meeting', 'signed'/'sign'."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 4 or w.isdigit():
        return w
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            break
    return w[:-1] if w.endswith("e") and len(w) > 4 else w


def words(text: str) -> list[str]:
    """Surface words of `text` (keeps case)."""
    return _WORD.findall(text)


def terms(text: str) -> list[str]:
    """Content terms: stemmed, lowercased, stopwords dropped."""
    return [stem(w) for w in words(text) if w.lower().replace("’", "'") not in STOPWORDS]


TYPO_FROM = 5  # shorter words must match exactly ("bath" is not "bat")


def drop_possessive(word: str) -> str:
    """`word` without a possessive "'s" ("simpson's" → "simpson")."""
    return word.removesuffix("'s").removesuffix("’s")


def plain_words(text: str) -> set[str]:
    """Lowercased words of `text` with a possessive "'s" dropped ("Simpson's" → "simpson")."""
    return {drop_possessive(w.lower()) for w in words(text)}


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether one letter substituted, inserted or deleted turns `a` into `b`."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def names_word(word: str, have: set[str]) -> bool:
    """Whether `word` (lowercased) is one of `have`, or, for words of ≥ TYPO_FROM letters, one
    edit away from one of them: a question's "Karren" names the article's "Karen"."""
    if word in have:
        return True
    return len(word) >= TYPO_FROM and any(
        len(h) >= TYPO_FROM and _one_edit_apart(word, h) for h in have
    )


def naming(text: str) -> Callable[[str], bool]:
    """Whether a lowercased word is named in `text`, as `names_word` judges it (possessive
    dropped, one letter misspelt), memoised: one such test per word of a question."""
    have = plain_words(text)
    memo: dict[str, bool] = {}

    def named(word: str) -> bool:
        got = memo.get(word)
        if got is None:
            got = memo[word] = names_word(drop_possessive(word), have)
        return got

    return named
