"""The default answerer: picks the best-supported sentence(s) of the retrieved chunks (no LLM)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qa.entities import has_date, has_number, mentions_person
from qa.question import QuestionInfo, analyse
from qa.retrieval import Hit
from qa.sentences import split_sentences
from qa.text import terms, words
from qa.types import Answer, Source

NOT_FOUND_TEXT = "The articles don't say: no passage in them answers this question."
MAX_QUOTE_WORDS = 45
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+[–—-]\s+|\s+\(")
_PLACE_AFTER = re.compile(r"\b(?:in|at|to|from)\s+((?:St\.?\s+|Saint\s+)?[A-Z][a-z]+)")


@dataclass(frozen=True)
class Weights:
    """Sentence score = dense·w + lexical·w + context·w + type·w + rank·w."""

    dense: float = 0.40
    lexical: float = 0.35
    context: float = 0.10
    answer_type: float = 0.15
    rank: float = 0.05
    min_score: float = 0.42  # best sentence below this → "the articles don't say"
    min_dense: float = 0.25


@dataclass(frozen=True)
class Candidate:
    hit_rank: int
    meta: dict[str, Any]
    start: int
    end: int
    text: str
    chunk_terms: frozenset[str]
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    type_ok: bool = False


def _coverage(
    qterms: tuple[str, ...], have: set[str] | frozenset[str], idf: Callable[[str], float]
) -> float:
    total = sum(idf(t) for t in qterms)
    return sum(idf(t) for t in qterms if t in have) / total if total else 0.0


def _type_match(info: QuestionInfo, text: str, names: frozenset[str] = frozenset()) -> bool:
    if info.kind == "who":
        return mentions_person(text, names, {w.lower() for w in words(info.text)})
    if info.kind == "when":
        return has_date(text)
    if info.kind == "number":
        return has_number(text)
    if info.kind == "where":
        asked = info.text.lower()
        return any(m.group(1).lower() not in asked for m in _PLACE_AFTER.finditer(text))
    if info.kind == "list":
        return text.count(",") >= 2 or " and " in text
    return True


def _trim(cand: Candidate, info: QuestionInfo, idf: Callable[[str], float]) -> Candidate:
    """A long sentence is cut to its best window of clauses (still verbatim, still its offsets)."""
    if len(cand.text.split()) <= MAX_QUOTE_WORDS:
        return cand
    cuts = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(cand.text)] + [len(cand.text)]
    best: tuple[float, int, int] | None = None
    for i in range(len(cuts) - 1):
        for j in range(i + 1, len(cuts)):
            piece = cand.text[cuts[i] : cuts[j]]
            n_words = len(piece.split())
            if n_words > MAX_QUOTE_WORDS:
                break
            value = _coverage(info.terms, set(terms(piece)), idf) + 0.5 * _type_match(info, piece)
            value += 0.002 * n_words  # prefer the fuller window on ties
            if best is None or value > best[0]:
                best = (value, cuts[i], cuts[j])
    if best is None:
        return cand
    _, lo, hi = best
    piece = cand.text[lo:hi]
    lo += len(piece) - len(piece.lstrip())
    hi -= len(piece) - len(piece.rstrip())
    return replace(cand, start=cand.start + lo, end=cand.start + hi, text=cand.text[lo:hi])


class ExtractiveAnswerer:
    """Scores candidate sentences by dense similarity, term overlap, answer type and chunk rank."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        idf: Callable[[str], float],
        weights: Weights | None = None,
        max_chunks: int = 6,
        names: frozenset[str] = frozenset(),
    ) -> None:
        self.names = names
        self.embed = embed
        self.idf = idf
        self.weights = weights or Weights()
        self.max_chunks = max_chunks
        self._vectors: dict[tuple[str, int, int], np.ndarray] = {}

    def candidates(self, hits: list[Hit]) -> list[Candidate]:
        seen: set[tuple[str, int]] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(hits[: self.max_chunks]):
            base = int(hit.meta["start"])
            chunk_terms = frozenset(terms(hit.text))
            for start, end in split_sentences(hit.text, base):
                key = (str(hit.meta["file"]), start)
                text = hit.text[start - base : end - base]
                if key in seen or len(text.split()) < 4:
                    continue
                seen.add(key)
                out.append(Candidate(rank, hit.meta, start, end, text, chunk_terms))
        return out

    def _sentence_vectors(self, cands: list[Candidate]) -> np.ndarray:
        keys = [(str(c.meta.get("content_hash", c.meta["file"])), c.start, c.end) for c in cands]
        missing = [i for i, k in enumerate(keys) if k not in self._vectors]
        if missing:
            vectors = self.embed([cands[i].text for i in missing])
            for i, vector in zip(missing, vectors, strict=True):
                self._vectors[keys[i]] = vector
        return np.stack([self._vectors[k] for k in keys])

    def score(
        self, info: QuestionInfo, qvec: np.ndarray, cands: list[Candidate]
    ) -> list[Candidate]:
        if not cands:
            return []
        w = self.weights
        dense = self._sentence_vectors(cands) @ qvec
        scored = []
        for cand, d in zip(cands, dense, strict=True):
            lexical = _coverage(info.terms, set(terms(cand.text)), self.idf)
            context = _coverage(info.terms, cand.chunk_terms, self.idf)
            type_ok = _type_match(info, cand.text, self.names)
            total = (
                w.dense * float(d)
                + w.lexical * lexical
                + w.context * context
                + w.answer_type * type_ok
                + w.rank / (1 + cand.hit_rank)
            )
            scored.append(
                replace(cand, score=total, dense=float(d), lexical=lexical, type_ok=type_ok)
            )
        return sorted(scored, key=lambda c: -c.score)

    def select(self, info: QuestionInfo, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentence; for list questions up to three, skipping near-duplicates (MMR)."""
        w = self.weights
        if not ranked or ranked[0].score < w.min_score or ranked[0].dense < w.min_dense:
            return []
        chosen = [ranked[0]]
        if info.wants_several:
            for cand in ranked[1:]:
                if len(chosen) == 3 or cand.score < ranked[0].score - 0.08:
                    break
                overlap = max(
                    len(set(terms(cand.text)) & set(terms(c.text)))
                    / max(1, len(set(terms(cand.text))))
                    for c in chosen
                )
                if overlap < 0.5 and cand.type_ok:
                    chosen.append(cand)
        return [_trim(c, info, self.idf) for c in chosen]

    def answer(self, question: str, query: str, qvec: np.ndarray, hits: list[Hit]) -> Answer:
        info = analyse(query)
        chosen = self.select(info, self.score(info, qvec, self.candidates(hits)))
        rewritten = query if query != question else ""
        if not chosen:
            return Answer(question, NOT_FOUND_TEXT, [], False, rewritten)
        sources: list[Source] = []
        parts: list[str] = []
        for cand in chosen:
            n = len(sources) + 1
            meta = cand.meta
            sources.append(
                Source(
                    n=n,
                    file=str(meta["file"]),
                    title=meta.get("title") or None,
                    date=meta.get("date") or None,
                    author=meta.get("author") or None,
                    quote=cand.text,
                    start=cand.start,
                    end=cand.end,
                    score=round(cand.score, 4),
                )
            )
            parts.append(f"{_display(cand.text)} [{n}]")
        return Answer(question, " ".join(parts), sources, True, rewritten)


def _display(quote: str) -> str:
    text = " ".join(quote.split())
    if text and text[0].islower():
        text = "…" + text
    if text and text[-1] not in '.!?”"':
        text = text.rstrip(",;:") + "…"
    return text
