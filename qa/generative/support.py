"""Does a passage say what a sentence claims? Lexical agreement (IDF-weighted coverage of the
sentence's content terms) plus embedding agreement (MiniLM cosine), against each sentence of the
passage and each adjacent pair; the weights and threshold are calibrated (`CALIBRATION`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from qa.generative.passages import Passage
from qa.text import STOPWORDS, plain_words, terms, words

# Written by `python -m qa.tools.citation_calibration` (it says how the numbers were chosen).
CALIBRATION = Path(__file__).resolve().parent.parent / "data" / "citation_check.json"
EMBEDDED_WINDOWS = 6  # per claim: only the lexically best windows are embedded (~5 ms each)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Calibration:
    """score = lexical_weight * coverage + (1 - lexical_weight) * cosine; supported if
    score >= threshold, coverage >= min_coverage and every number of the claim is there."""

    lexical_weight: float
    threshold: float
    min_coverage: float
    need_rarest: bool = False  # the claim's rarest term must be in the window, title or date


@cache
def shipped_calibration() -> Calibration:
    data = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    return Calibration(
        float(data["lexical_weight"]),
        float(data["threshold"]),
        float(data["min_coverage"]),
        bool(data.get("need_rarest", False)),
    )


@dataclass(frozen=True)
class Window:
    """One sentence of a passage, or two adjacent ones: file offsets and text."""

    passage: Passage
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.passage.cut(self.start, self.end)


@dataclass(frozen=True)
class Support:
    """How well `window` supports a claim."""

    window: Window
    coverage: float  # IDF-weighted share of the claim's terms found in the window
    cosine: float
    numbers: bool  # every number in the claim appears in the window, title or date
    names: bool  # every capitalised word of the claim (after its first) appears there too
    rarest: bool  # the claim's rarest term (highest IDF) appears there too
    score: float

    def supports(self, calibration: Calibration) -> bool:
        return (
            self.numbers
            and self.names
            and (self.rarest or not calibration.need_rarest)
            and self.coverage >= calibration.min_coverage
            and self.score >= calibration.threshold
        )


def windows(passage: Passage) -> list[Window]:
    spans = passage.sentences
    out = [Window(passage, s, e) for s, e in spans]
    out += [Window(passage, spans[i][0], spans[i + 1][1]) for i in range(len(spans) - 1)]
    return out


def names(text: str) -> set[str]:
    """Capitalised words after the first, lowercased, possessive dropped: the claim's names."""
    return plain_words(" ".join(w for w in words(text)[1:] if w[0].isupper())) - STOPWORDS


def numbers(text: str) -> set[str]:
    """The numbers written in digits in `text`, normalised ("1,200" → "1200", "09" → "9")."""
    return {m.group(0).replace(",", "").lstrip("0") or "0" for m in _NUMBER.finditer(text)}


class SupportScorer:
    """Scores claims against passages; embeddings are cached for the scorer's lifetime (one
    answer)."""

    def __init__(
        self,
        idf: Callable[[str], float],
        embed: Callable[[Sequence[str]], np.ndarray],
        calibration: Calibration | None = None,
    ) -> None:
        self.idf = idf
        self.embed = embed
        self.calibration = calibration or shipped_calibration()
        self._vectors: dict[str, np.ndarray] = {}

    def coverage(self, claim_terms: set[str], text: str) -> float:
        total = sum(self.idf(t) for t in claim_terms)
        if not total:
            return 0.0
        have = set(terms(text))
        return sum(self.idf(t) for t in claim_terms & have) / total

    def _vectors_of(self, texts: list[str]) -> list[np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.embed(missing), strict=True):
                self._vectors[text] = np.asarray(vector, dtype=np.float32)
        return [self._vectors[t] for t in texts]

    def scores(self, claim: str, passages: Sequence[Passage]) -> list[Support]:
        """The best-covering windows of `passages` for `claim`, scored, best first."""
        claim_terms = set(terms(claim))
        if not claim_terms:
            return []
        ranked = sorted(
            ((self.coverage(claim_terms, w.text), w) for p in passages for w in windows(p)),
            key=lambda cw: (-cw[0], cw[1].passage.n, cw[1].start, cw[1].end),
        )[:EMBEDDED_WINDOWS]
        if not ranked:
            return []
        claim_vector, *vectors = self._vectors_of([claim] + [w.text for _, w in ranked])
        wanted, named = numbers(claim), names(claim)
        rarest = max(sorted(claim_terms), key=self.idf)
        weight = self.calibration.lexical_weight
        out = []
        for (cover, window), vector in zip(ranked, vectors, strict=True):
            cosine = float(np.dot(claim_vector, vector))
            context = f"{window.text} {window.passage.title or ''} {window.passage.date or ''}"
            out.append(
                Support(
                    window,
                    round(cover, 4),
                    round(cosine, 4),
                    wanted <= numbers(context),
                    named <= plain_words(context),
                    rarest in set(terms(context)),
                    round(weight * cover + (1 - weight) * cosine, 4),
                )
            )
        return sorted(
            out, key=lambda s: (-s.supports(self.calibration), -s.score, s.window.passage.n)
        )

    def best(self, claim: str, passages: Sequence[Passage]) -> Support | None:
        """The window of `passages` that supports `claim` best, if any supports it."""
        for support in self.scores(claim, passages):
            if support.supports(self.calibration):
                return support
        return None
