"""The reader, top-down: question analysis → candidates → features → rank → answerability →
rerank → answer. Each stage is its own module; this one only chains them."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from qa.reader.answer import compose, refusal
from qa.reader.candidates import Candidate, candidates
from qa.reader.features import FEATURES, Lexicon, featurize, unknown_share
from qa.reader.model import ReaderModel, shipped_model
from qa.reader.question import Question, analyse
from qa.reader.rerank import CrossEncoder
from qa.retrieval import Hit
from qa.text import terms
from qa.types import Answer

# Answerability looks at the top candidates and at how the question fits the corpus.
ANSWERABILITY = (
    "top",
    "margin",
    "top_cover",
    "top_names",
    "best_names",
    "top_type_missing",
    "top_type_near",
    "top_chunk_dense",
    "unknown_share",
    "typed",
    "top_cover_window",
    "top_missing_rare",
    "top_year_miss",
)
# The shipped reader; two comparisons (never refusing, the BM25 baseline); and ablations of the
# hand rules that remain, each switched off alone, so `newsqa eval` shows what each earns.
MODES = (
    "reader",
    "always-answer",
    "bm25-sentence",
    "no-answer-types",
    "no-head-nouns",
    "no-clause-trim",
    "no-cross-encoder",
)
_NEVER_REFUSE = ("always-answer", "bm25-sentence")
_NOT_RERANKED = ("bm25-sentence", "no-cross-encoder")


@dataclass(frozen=True)
class Reading:
    """Everything one question's reading produced (for the answer, evaluation and training)."""

    question: Question
    candidates: list[Candidate]  # ranked, best first
    scores: np.ndarray  # ranker logits, same order
    features: np.ndarray  # feature rows, same order
    answerable: float  # P(answerable)
    threshold: float  # refuse below this P(answerable)


class Reader:
    """Picks the sentence that answers, or refuses; collaborators are injected."""

    def __init__(
        self,
        lexicon: Lexicon,
        model: ReaderModel | None = None,
        mode: str = "reader",
        cross_encoder: CrossEncoder | None = None,
        cascade: bool = False,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown reader mode {mode!r}")
        self.lexicon = lexicon
        self.model = model or shipped_model()
        self.mode = mode
        self.cross_encoder = None if mode in _NOT_RERANKED else cross_encoder
        self.cascade = cascade  # the cross-encoder steps in only where the ranker is unsure

    def rank(self, question: str, hits: list[Hit], prefer: frozenset[str] = frozenset()) -> Reading:
        """Candidates of `hits` ranked by the trained ranker (its top few then reranked by the
        cross-encoder, if it steps in), with P(answerable) from the ranker's order, or from the
        cross-encoder's null score when it reranked and has one."""
        q = self._analysed(question)
        cands = candidates(hits)
        rows = featurize(q, cands, self.lexicon, prefer)
        if not cands:
            return Reading(q, [], np.zeros(0), rows, 0.0, self.model.threshold)
        if self.mode == "bm25-sentence":
            scores = rows[:, FEATURES.index("bm25")] - 1e-3 * rows[:, FEATURES.index("pair")]
        else:
            scores = self.model.ranker.logit(rows)
        order = np.argsort(-scores, kind="stable")
        scores, rows = scores[order], rows[order]
        features = answerability_row(q, scores, rows, self.lexicon, cands[order[0]])[None, :]
        answerable = float(self.model.answerability.probability(features)[0])
        threshold = self.model.threshold
        ranked = [cands[i] for i in order]
        step_in = self._cross_encoder_step(answerable)
        if step_in is not None:
            encoder, top, refuse_below = step_in
            reranked = encoder.rerank(question, [c.text for c in ranked], scores, top)
            better = reranked.order
            ranked, scores, rows = [ranked[i] for i in better], scores[better], rows[better]
            if reranked.answerable is not None:  # the cross-encoder's null score decides refusal
                answerable, threshold = reranked.answerable, refuse_below
        return Reading(q, ranked, scores, rows, answerable, threshold)

    def _cross_encoder_step(self, answerable: float) -> tuple[CrossEncoder, int, float] | None:
        """(cross-encoder, how many to rescore, its refusal threshold) if it steps in here."""
        encoder = self.cross_encoder
        if encoder is None:
            return None
        if not self.cascade:
            return encoder, encoder.file.top, encoder.file.refusal_threshold or 0.0
        cascade = encoder.file.cascade
        if cascade is None or answerable >= cascade.gate:  # the ranker is sure: its answer stands
            return None
        return encoder, cascade.top, cascade.refusal_threshold

    def _analysed(self, question: str) -> Question:
        q = analyse(question)
        if self.mode == "no-answer-types" or (
            self.mode == "no-head-nouns" and q.kind == "head_noun"
        ):
            untyped = frozenset[str]()
            q = replace(q, kind="other", primary=untyped, secondary=untyped)
        if self.mode == "no-answer-types":
            q = replace(q, wants_quote=False, wants_reason=False, list_count=0)
        return q

    def answer(
        self,
        question: str,
        query: str,
        hits: list[Hit],
        prefer: frozenset[str] = frozenset(),
        focus: str | None = None,
    ) -> Answer:
        """The answer to `question`; `focus` is its self-contained rewrite (a follow-up's)."""
        return self.compose(question, query, self.rank(focus or question, hits, prefer))

    def compose(self, question: str, query: str, reading: Reading) -> Answer:
        """The answer a finished reading gives: its top candidate, or a refusal."""
        shown_query = query if query != question else ""
        refuse = self.mode not in _NEVER_REFUSE and reading.answerable < reading.threshold
        if not reading.candidates or refuse:
            return refusal(question, shown_query, reading.answerable)
        return compose(
            question,
            reading.question,
            reading.candidates[0],
            float(reading.scores[0]),
            reading.answerable,
            shown_query,
            trim=self.mode != "no-clause-trim",
        )


def missing_rare(q: Question, cand: Candidate, lexicon: Lexicon) -> float:
    """How rare the rarest question term is that the candidate's window lacks (0: none lacks;
    1: the question's rarest term itself is missing)."""
    if not q.terms:
        return 0.0
    have = set(terms(cand.window + " " + cand.title))
    idfs = {t: lexicon.idf(t) for t in q.terms}
    missing = [idf for t, idf in idfs.items() if t not in have]
    return max(missing, default=0.0) / (max(idfs.values()) or 1.0)


def answerability_row(
    q: Question, scores: np.ndarray, rows: np.ndarray, lexicon: Lexicon, best: Candidate | None
) -> np.ndarray:
    """The answerability model's inputs for one question (see ANSWERABILITY)."""
    if not len(scores) or best is None:
        return np.zeros(len(ANSWERABILITY))
    col = FEATURES.index
    top = rows[0]
    second = float(scores[1]) if len(scores) > 1 else float(scores[0]) - 5.0
    return np.round(
        [
            float(scores[0]),
            float(scores[0]) - second,
            top[col("cover")],
            top[col("names_window")],
            float(rows[:, col("names_window")].max()),
            top[col("type_missing")],
            top[col("type_near")],
            top[col("chunk_dense")],
            unknown_share(q, lexicon),
            float(q.typed),
            top[col("cover_window")],
            missing_rare(q, best, lexicon),
            top[col("year_miss")],
        ],
        5,
    )
