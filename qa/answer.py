"""The default answerer: picks the best-supported sentence(s) of the retrieved chunks (no LLM)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qa.features import SoftMatcher, best_span, coverage, sentence_terms, type_match
from qa.question import QuestionInfo, analyse
from qa.retrieval import Hit
from qa.sentences import split_sentences
from qa.text import STOPWORDS, stem, terms, words
from qa.types import Answer, Source

NOT_FOUND_TEXT = "The articles don't say: no passage in them answers this question."
MAX_QUOTE_WORDS = 45
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+[–—-]\s+|\s+\(")
_QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}


@dataclass(frozen=True)
class Weights:
    """Sentence score = dense·w + lexical·w + context·w + type·w + rank·w; then refusal limits."""

    dense: float = 0.40
    lexical: float = 0.35
    context: float = 0.10
    answer_type: float = 0.15
    rank: float = 0.05
    min_score: float = 0.42  # best sentence below this → "the articles don't say"
    min_dense: float = 0.25
    max_unsupported: float = 0.40  # share of the question unknown to the articles and unmatched
    require_type: bool = True  # who/when/how many/where need a person/date/number/place
    type_margin: float = 0.0  # how far below the top a sentence of the right type may rank
    continuity: float = 0.05  # a follow-up's bonus for the previous answer's articles


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


class ExtractiveAnswerer:
    """Scores candidate sentences by dense similarity, term overlap, answer type and chunk rank."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        idf: Callable[[str], float],
        weights: Weights | None = None,
        *,
        known: Callable[[str], bool] = lambda term: True,
        names: frozenset[str] = frozenset(),
        max_chunks: int = 6,
    ) -> None:
        self.embed = embed
        self.idf = idf
        self.known = known
        self.weights = weights or Weights()
        self.names = names
        self.max_chunks = max_chunks
        self.soft = SoftMatcher(embed)
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
            lexical = coverage(info.terms, sentence_terms(info, cand.text), self.idf)
            context = coverage(info.terms, cand.chunk_terms, self.idf)
            type_ok = type_match(info, cand.text, self.names)
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

    def unsupported(self, info: QuestionInfo, cand: Candidate) -> float:
        """IDF share of the question made of words the articles never use and the sentence lacks."""
        absent = [
            w
            for w in dict.fromkeys(words(info.text))
            if w.lower() not in STOPWORDS
            and w.lower() not in _QUESTION_WORDS
            and not self.known(stem(w))
        ]
        total = sum(self.idf(t) for t in info.terms)
        if not absent or not total:
            return 0.0
        missing = self.soft.unmatched(absent, cand.text)
        return sum(self.idf(stem(w)) for w in missing) / total

    def supported(self, info: QuestionInfo, best: Candidate) -> bool:
        w = self.weights
        if best.score < w.min_score or best.dense < w.min_dense:
            return False
        return self.unsupported(info, best) < w.max_unsupported

    def best(self, info: QuestionInfo, ranked: list[Candidate]) -> Candidate | None:
        """The top sentence; a typed question (who/when/…) takes the top one of the right type."""
        if not ranked:
            return None
        w = self.weights
        if not w.require_type or info.kind not in ("who", "when", "number", "where"):
            return ranked[0]
        for cand in ranked:
            if cand.score < ranked[0].score - w.type_margin:
                break
            if cand.type_ok:
                return cand
        return None

    def select(self, info: QuestionInfo, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentence; for list questions up to three, skipping near-duplicates (MMR)."""
        top = self.best(info, ranked)
        if top is None or not self.supported(info, top):
            return []
        chosen = [top]
        if info.wants_several:
            for cand in ranked:
                if cand is top:
                    continue
                if len(chosen) == 3 or cand.score < top.score - 0.08:
                    break
                cand_terms = set(terms(cand.text))
                overlap = max(
                    len(cand_terms & set(terms(c.text))) / max(1, len(cand_terms)) for c in chosen
                )
                if overlap < 0.5 and cand.type_ok:
                    chosen.append(cand)
        return [self._trim(c, info) for c in chosen]

    def _trim(self, cand: Candidate, info: QuestionInfo) -> Candidate:
        """A long sentence is cut to its best window of clauses (still verbatim, at its offsets)."""
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
                value = coverage(info.terms, set(terms(piece)), self.idf)
                value += 0.5 * type_match(info, piece, self.names) + 0.002 * n_words
                if best is None or value > best[0]:
                    best = (value, cuts[i], cuts[j])
        if best is None:
            return cand
        _, lo, hi = best
        piece = cand.text[lo:hi]
        lo += len(piece) - len(piece.lstrip())
        hi -= len(piece) - len(piece.rstrip())
        return replace(cand, start=cand.start + lo, end=cand.start + hi, text=cand.text[lo:hi])

    def answer(
        self,
        question: str,
        query: str,
        qvec: np.ndarray,
        hits: list[Hit],
        prefer_files: frozenset[str] = frozenset(),
    ) -> Answer:
        """`prefer_files`: the previous turn's articles, which a follow-up most likely continues."""
        info = analyse(query)
        ranked = self.score(info, qvec, self.candidates(hits))
        if prefer_files:
            bonus = self.weights.continuity
            ranked = sorted(
                (
                    replace(c, score=c.score + bonus) if c.meta.get("file") in prefer_files else c
                    for c in ranked
                ),
                key=lambda c: -c.score,
            )
        chosen = self.select(info, ranked)
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
            parts.append(f"{self._display(info, cand.text)} [{n}]")
        return Answer(question, " ".join(parts), sources, True, rewritten)

    def _display(self, info: QuestionInfo, quote: str) -> str:
        """The quote on one line, its answer span in bold, with … where it was cut."""
        span = best_span(info, quote, self.names)
        if span:
            s, e = span
            quote = f"{quote[:s]}**{quote[s:e]}**{quote[e:]}"
        text = " ".join(quote.split())
        if text and text[0].islower():
            text = "…" + text
        if text and text[-1] not in '.!?”"':
            text = text.rstrip(",;:") + "…"
        return text
