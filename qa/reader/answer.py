"""Stage 6, the answer: takes the chosen candidate, gives an `Answer` with one verbatim citation
and the answer span(s) as offsets (no markup in the text)."""

from __future__ import annotations

import re

from qa.reader.candidates import Candidate
from qa.reader.features import new_entities
from qa.reader.question import Question
from qa.text import naming, terms
from qa.types import Answer, Source, Span

NOT_FOUND_TEXT = "The articles don't say: no passage in them answers this question."
MAX_WORDS = 55
_CLAUSE_END = re.compile(r"[,;:]\s+|\s+[–—-]\s+")
_MARKER = re.compile(r"\[(\d+)\]")


def defuse_markers(text: str) -> str:
    """`text` with an article's own "[9]" written "(9)" (same length, so offsets hold): in an
    answer, only the answer's markers look like citations."""
    return _MARKER.sub(r"(\1)", text)


def answer_spans(q: Question, cand: Candidate) -> list[tuple[int, int, str]]:
    """Entities of the asked type that the question does not name, nearest its terms first
    (all of them for a list question, else one)."""
    if not q.typed:
        return []
    named = naming(q.text)
    q_terms = set(q.terms)
    anchors = [
        cand.start + m.start()
        for m in re.finditer(r"\S+", cand.text)
        if set(terms(m.group(0))) & q_terms
    ]
    found: list[tuple[float, int, int, str]] = []
    for tier, labels in enumerate((q.primary, q.secondary)):
        for start, end, label in new_entities(named, cand, labels):
            distance = min((abs(a - start) for a in anchors), default=0)
            found.append((tier * 10_000 + distance, start, end, label))
        if found:
            break
    found.sort()
    chosen = found[: max(1, q.list_count)] if q.list_count else found[:1]
    return sorted((s, e, label) for _, s, e, label in chosen)


def _trim(cand: Candidate, keep: list[tuple[int, int, str]], q: Question) -> tuple[int, int]:
    """File offsets of the shortest run of clauses (≤ MAX_WORDS words) that holds the spans,
    or the candidate whole when it is short enough."""
    if len(cand.text.split()) <= MAX_WORDS:
        return cand.start, cand.end
    clause_ends = list(_CLAUSE_END.finditer(cand.text))
    cuts = [0] + [m.end() for m in clause_ends] + [len(cand.text)]
    # A run ending on a colon quotes the lead-in ('… said on Saturday:') without what it opens.
    lead_ins = {m.end() for m in clause_ends if m.group(0).startswith(":")}
    pieces = [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]
    q_terms = set(q.terms)

    def fits(a: int, b: int) -> bool:
        return len(cand.text[a:b].split()) <= MAX_WORDS

    targets = [(s - cand.start, e - cand.start) for s, e, _ in keep]
    best: tuple[float, int, int] | None = None
    for i in range(len(pieces)):
        for j in range(i, len(pieces)):
            a, b = pieces[i][0], pieces[j][1]
            if not fits(a, b):
                break
            if any(s < a or e > b for s, e in targets) or b in lead_ins:
                continue
            cover = len(set(terms(cand.text[a:b])) & q_terms)
            score = cover - 0.01 * len(cand.text[a:b].split())
            if best is None or score > best[0]:
                best = (score, a, b)
    if best is None:  # one clause is too long: a word window around the first span
        return cand.start, cand.end
    a, b = best[1], best[2]
    text = cand.text[a:b]
    b = a + len(text.rstrip(" ,;:–—-"))
    return cand.start + a, cand.start + b


def compose(
    question: str,
    q: Question,
    cand: Candidate,
    score: float,
    confidence: float,
    query: str,
    *,
    trim: bool = True,
) -> Answer:
    """An answer quoting `cand` (or, with `trim`, its clauses that hold the answer) as [1]."""
    spans = answer_spans(q, cand)
    start, end = _trim(cand, spans, q) if trim else (cand.start, cand.end)
    quote = cand.text[start - cand.start : end - cand.start]
    shown = defuse_markers(" ".join(quote.split()))
    text = f"{shown} [1]"
    marks = []
    for s, e, label in spans:
        if s < start or e > end:
            continue
        surface = defuse_markers(" ".join(cand.text[s - cand.start : e - cand.start].split()))
        prefix = " ".join(cand.text[start - cand.start : s - cand.start].split())
        at = len(prefix) + (1 if prefix and shown[len(prefix) : len(prefix) + 1] == " " else 0)
        if shown[at : at + len(surface)] != surface:
            at = shown.find(surface)
        if at >= 0:
            marks.append(Span(1, s, e, at, at + len(surface), label, surface))
    source = Source(
        n=1,
        file=cand.file,
        title=cand.title or None,
        date=cand.date,
        author=cand.author,
        quote=quote,
        start=start,
        end=end,
        score=round(score, 4),
        entities=tuple(x for x in cand.entities if x[0] >= start and x[1] <= end),
    )
    return Answer(question, text, [source], True, query, marks, confidence)


def refusal(question: str, query: str, confidence: float) -> Answer:
    return Answer(question, NOT_FOUND_TEXT, [], False, query, [], confidence)
