"""Sentence boundaries with character offsets (quotes are whole sentences of the file)."""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "st",
    "mr",
    "mrs",
    "ms",
    "dr",
    "gen",
    "col",
    "lt",
    "sgt",
    "capt",
    "maj",
    "prof",
    "no",
    "vs",
    "etc",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "inc",
    "ltd",
    "co",
    "corp",
    "jr",
    "sr",
    "u.s",
    "u.n",
    "e.g",
    "i.e",
    "art",
    "para",
    "fig",
}
# A run of end marks is only tried from its first mark (the lookbehind): trying every mark of a
# long run ("......") would make the search quadratic in the run's length.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n\s*\n|\n")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def _is_abbreviation(text: str, end: int) -> bool:
    m = _LAST_WORD.search(text, max(0, end - 12), end)
    if not m:
        return False
    word = m.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(text: str, base: int = 0) -> list[tuple[int, int]]:
    """(start, end) offsets, shifted by `base`, of each sentence; whitespace is trimmed off."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if (
            m.group(0).startswith((".",))
            and "\n" not in m.group(0)
            and _is_abbreviation(text, m.start() + 1)
        ):
            continue
        _push(text, start, end, base, spans)
        start = end
    _push(text, start, len(text), base, spans)
    return spans


def _push(text: str, start: int, end: int, base: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((base + start, base + end))
