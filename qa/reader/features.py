"""Stage 3, features: takes a question and its candidates, gives one row of numbers each.

Only generic signals: BM25 and IDF-weighted term coverage of the sentence, its neighbours and its
headline; the chunk's fused, dense and BM25 ranks; position; whether it holds an entity of the
asked type that the question does not already name, and how near the question's words it is.
Dense similarity enters through the chunk's score: sentence-level vectors (embedding the top
candidates at query time) were measured and did not help (see README), so none are computed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.reader.candidates import Candidate
from qa.reader.question import Question, reason_cues
from qa.text import naming, plain_words, terms, words

FEATURES = (
    "chunk_fused",
    "chunk_dense",
    "chunk_dense_rank",
    "chunk_bm25_rank",
    "bm25",
    "bm25_best",
    "cover",
    "cover_window",
    "cover_title",
    "cover_best",
    "names",
    "names_window",
    "names_title",
    "typed",
    "type_primary",
    "type_secondary",
    "type_missing",
    "type_near",
    "type_x_cover",
    "type_x_window",
    "missing_x_cover",
    "list_fit",
    "quote_fit",
    "quote",
    "reason_fit",
    "year_fit",
    "year_miss",
    "first_sentence",
    "position",
    "length",
    "pair",
    "continuity",
    "quote_x_names",
    "type_x_names",
)
_QUOTE = re.compile(r"[\"“”]")
_TOKEN = re.compile(r"\S+")
_K1, _B, _AVG_WORDS = 1.2, 0.75, 25.0
_NEAR_CHARS = 60.0


@dataclass(frozen=True)
class Lexicon:
    """Corpus statistics the features need: IDF of a stemmed term, and whether it is known."""

    idf: Callable[[str], float]
    known: Callable[[str], bool]


class _Cache:
    """Terms and lowercased words of each text, computed once per question."""

    def __init__(self) -> None:
        self.terms: dict[str, list[str]] = {}
        self.words: dict[str, set[str]] = {}

    def term_list(self, text: str) -> list[str]:
        got = self.terms.get(text)
        if got is None:
            got = self.terms[text] = terms(text)
        return got

    def word_set(self, text: str) -> set[str]:
        got = self.words.get(text)
        if got is None:
            got = self.words[text] = plain_words(text)
        return got


def _coverage(weights: dict[str, float], total: float, text_terms: set[str]) -> float:
    return sum(w for t, w in weights.items() if t in text_terms) / total if total else 0.0


def _name_share(names: Sequence[str], have: set[str]) -> float:
    if not names:
        return 1.0
    return sum(1 for n in names if n in have) / len(names)


def new_entities(
    named: Callable[[str], bool], cand: Candidate, labels: frozenset[str]
) -> list[tuple[int, int, str]]:
    """Entities of `labels` in the candidate whose words the question does not all name
    (`named`, from `qa.text.naming`: "Simpson's" names "Simpson", "Karren" names "Karen")."""
    out = []
    for start, end, label in cand.entities:
        if label in labels:
            ent_words = [w.lower() for w in words(cand.text[start - cand.start : end - cand.start])]
            if ent_words and not all(named(w) for w in ent_words):
                out.append((start, end, label))
    return out


def _bm25(weights: dict[str, float], toks: list[str]) -> float:
    counts: dict[str, int] = {}
    for t in toks:
        counts[t] = counts.get(t, 0) + 1
    norm = _K1 * (1 - _B + _B * len(toks) / _AVG_WORDS)
    score = 0.0
    for t, w in weights.items():
        tf = counts.get(t, 0)
        if tf:
            score += w * tf * (_K1 + 1) / (tf + norm)
    return score


def _nearness(q_terms: set[str], cand: Candidate, spans: list[tuple[int, int, str]]) -> float:
    """exp(-distance / 60 chars) from the nearest asked-type entity to a question word."""
    if not spans:
        return 0.0
    anchors = [
        cand.start + m.start()
        for m in _TOKEN.finditer(cand.text)
        if q_terms.intersection(terms(m.group(0)))
    ]
    if not anchors:
        return 0.0
    distance = min(abs(a - s) for a in anchors for s, _, _ in spans)
    return math.exp(-distance / _NEAR_CHARS)


def featurize(
    q: Question, cands: Sequence[Candidate], lexicon: Lexicon, prefer: frozenset[str]
) -> np.ndarray:
    """A (len(cands), len(FEATURES)) matrix."""
    weights = {t: lexicon.idf(t) for t in q.terms}
    idf_total = sum(weights.values()) or 1.0
    named = naming(q.text)
    q_terms = set(q.terms)
    cues = reason_cues()
    cache = _Cache()
    rows = []
    for c in cands:
        sent_terms = cache.term_list(c.text)
        sent_set = set(sent_terms)
        window_set = set(cache.term_list(c.window))
        title_set = set(cache.term_list(c.title))
        primary = new_entities(named, c, q.primary) if q.primary else []
        secondary = new_entities(named, c, q.secondary) if q.secondary else []
        low = c.text.lower()
        year_text = c.window + " " + (c.date or "") + " " + c.title
        year_fit = float(bool(q.years) and all(y in year_text for y in q.years))
        cover = _coverage(weights, idf_total, sent_set)
        cover_window = _coverage(weights, idf_total, window_set)
        has_type = float(bool(primary))
        missing = float(q.typed and not primary and not secondary)
        rows.append(
            [
                1.0 / (1 + c.chunk_rank),
                c.chunk_dense,
                1.0 / (1 + c.dense_rank),
                1.0 / (1 + c.bm25_rank),
                _bm25(weights, sent_terms) / idf_total,
                0.0,  # bm25_best, filled below
                cover,
                cover_window,
                _coverage(weights, idf_total, title_set),
                0.0,  # cover_best, filled below
                _name_share(q.names, cache.word_set(c.text)),
                _name_share(q.names, cache.word_set(c.window) | cache.word_set(c.title)),
                _name_share(q.names, cache.word_set(c.title)),
                float(q.typed),
                has_type,
                float(bool(secondary)),
                missing,
                _nearness(q_terms, c, primary or secondary),
                has_type * cover,
                has_type * cover_window,
                missing * cover,
                float(q.list_count > 0 and len({(s, e) for s, e, _ in primary}) >= q.list_count),
                float(q.wants_quote and bool(_QUOTE.search(c.text))),
                float(bool(_QUOTE.search(c.text))),
                float(q.wants_reason and any(cue in low for cue in cues)),
                year_fit,
                float(bool(q.years) and not year_fit),
                float(c.first_chunk and c.position == 0),
                1.0 / (1 + c.position),
                min(len(c.text.split()), 80) / 40.0,
                float(c.is_pair),
                float(c.file in prefer),
                0.0,  # quote_x_names, filled below
                0.0,  # type_x_names, filled below
            ]
        )
    matrix = np.asarray(rows, dtype=np.float64).reshape(len(cands), len(FEATURES))
    if len(cands):
        col = FEATURES.index
        for name, source in (("bm25_best", "bm25"), ("cover_best", "cover")):
            matrix[:, col(name)] = matrix[:, col(source)] - matrix[:, col(source)].max()
        names = matrix[:, col("names_window")]
        matrix[:, col("quote_x_names")] = matrix[:, col("quote_fit")] * names
        matrix[:, col("type_x_names")] = matrix[:, col("type_primary")] * names
    # Rounded so that float noise in the dense scores (thread timing in onnxruntime) cannot make
    # two training runs differ: `newsqa train` reproduces the shipped model byte for byte.
    return np.round(matrix, 5)


def unknown_share(q: Question, lexicon: Lexicon) -> float:
    """Share of the question's terms that no article uses."""
    if not q.terms:
        return 0.0
    return sum(1 for t in q.terms if not lexicon.known(t)) / len(q.terms)
