"""`newsqa train`: fits the reader on bbc_train and calibrates refusal on bbc_dev (a dev tool).

Deterministic: the same store and sets give the same `qa/data/reader_model.json`, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.articles import read_article_text
from qa.engine import Engine
from qa.filters import Filters
from qa.reader.candidates import Candidate, candidates
from qa.reader.features import FEATURES, Lexicon, featurize
from qa.reader.model import MODEL_PATH, Logistic, ReaderModel, fit_logistic
from qa.reader.pipeline import ANSWERABILITY, Reader, answerability_row
from qa.reader.question import analyse
from qa.retrieval import Hit
from qa.settings import Settings
from qa.tools.evaluation import Item, answer_correct, contains_alias, load_set

FALSE_REFUSAL_BUDGET = 0.04  # calibrated below the 5 % target, for a margin
L2 = 1.0


@dataclass
class Example:
    item: Item
    hits: list[Hit]
    cands: list[Candidate]
    rows: np.ndarray
    labels: np.ndarray


def support_spans(item: Item, seeds: Path) -> list[tuple[str, int, int]]:
    """(file, start, end) of every support sentence in every gold file that holds it."""
    out = []
    for file in item.sources:
        try:
            text = read_article_text(seeds / file)
        except OSError:
            continue
        for sentence in item.support:
            at = text.find(sentence)
            while at >= 0:
                out.append((file, at, at + len(sentence)))
                at = text.find(sentence, at + 1)
    return out


def is_positive(cand: Candidate, item: Item, spans: list[tuple[str, int, int]]) -> bool:
    """The candidate covers most of a support sentence and holds an alias of every group."""
    if not all(contains_alias(cand.text, g) for g in item.answers):
        return False
    for file, start, end in spans:
        overlap = min(end, cand.end) - max(start, cand.start)
        if file == cand.file and overlap >= 0.5 * (end - start):
            return True
    return False


def lexicon_of(engine: Engine) -> Lexicon:
    lexical = engine.store.lexical
    return Lexicon(lexical.idf, lexical.known)


def read_examples(engine: Engine, items: list[Item], log: Callable[[str], None]) -> list[Example]:
    """Retrieved candidates of each question, their features and their labels."""
    retriever, seeds, lexicon = engine.retriever, engine.settings.seeds_dir, lexicon_of(engine)
    out = []
    for number, item in enumerate(items, 1):
        vector = retriever.embed_query(item.question)
        hits = retriever.retrieve(item.question, vector, engine.settings.top_k, Filters())
        cands = candidates(hits)
        spans = support_spans(item, seeds) if item.answerable else []
        labels = np.asarray([is_positive(c, item, spans) for c in cands], dtype=np.float64)
        rows = featurize(analyse(item.question), cands, lexicon, frozenset())
        out.append(Example(item, hits, cands, rows, labels))
        if number % 200 == 0:
            log(f"  {number}/{len(items)} questions read")
    return out


def fit_ranker(examples: list[Example]) -> Logistic:
    """Pointwise logistic regression over the candidates of answerable questions."""
    rows = [e for e in examples if e.item.answerable and e.labels.any()]
    x = np.vstack([e.rows for e in rows])
    y = np.concatenate([e.labels for e in rows])
    return fit_logistic(FEATURES, x, y, l2=L2)


def fit_answerability(examples: list[Example], lexicon: Lexicon, ranker: Logistic) -> Logistic:
    """P(the top answer is right), learnt on the training questions."""
    n = len(ANSWERABILITY)
    blank = Logistic(ANSWERABILITY, np.zeros(n), np.ones(n), np.zeros(n), 0.0)
    reader = Reader(lexicon, ReaderModel(ranker, blank, 0.0, {}), "always-answer")
    xs, ys = [], []
    for e in examples:
        reading = reader.rank(e.item.question, e.hits)
        answer = reader.compose(e.item.question, e.item.question, reading)
        best = reading.candidates[0] if reading.candidates else None
        xs.append(
            answerability_row(reading.question, reading.scores, reading.features, lexicon, best)
        )
        ys.append(float(e.item.answerable and answer_correct(e.item, answer)))
    return fit_logistic(ANSWERABILITY, np.vstack(xs), np.asarray(ys), l2=L2)


def calibrate(confidences: list[tuple[bool, float]], budget: float) -> float:
    """The highest threshold whose false-refusal rate on (answerable, confidence) pairs is
    within `budget`."""
    answerable = sorted(c for ok, c in confidences if ok)
    if not answerable:
        return 0.0
    allowed = int(budget * len(answerable))  # refusals allowed among answerable questions
    # Refuse below the (allowed+1)-th lowest answerable confidence: exactly `allowed` refused.
    return float(answerable[allowed]) if allowed < len(answerable) else 1.0


def dev_confidences(engine: Engine, dev: list[Item]) -> list[tuple[bool, float]]:
    """(answerable, P(answerable)) of each dev question, asked after its earlier turns."""
    from qa.api import Chat

    out = []
    for item in dev:
        chat = Chat(engine=engine)
        for earlier in item.context:
            chat.ask(earlier)
        out.append((item.answerable, chat.ask(item.question).confidence))
    return out


def train(
    settings: Settings, train_set: Path, dev_set: Path, log: Callable[[str], None] = print
) -> tuple[ReaderModel, dict[str, float]]:
    """Fit the ranker and answerability on `train_set`; calibrate refusal on `dev_set`."""
    engine = Engine(settings)
    engine.ensure_ingested()
    lexicon = lexicon_of(engine)
    items = [i for i in load_set(train_set) if not i.followup]
    log(f"reading {len(items)} training questions (follow-ups are left to the dev set)")
    examples = read_examples(engine, items, log)
    ranker = fit_ranker(examples)
    answerability = fit_answerability(examples, lexicon, ranker)
    log("ranker and answerability fitted; calibrating refusal on the dev set")
    dev = load_set(dev_set)
    # Calibrated on the ranker's own answers: with the cross-encoder on, its own calibrated
    # threshold decides refusal, and without it this file stays reproducible whatever its weights.
    scoring = Engine(
        replace(settings, rerank="off"),
        reader_mode="always-answer",
        model=ReaderModel(ranker, answerability, 0.0, {}),
    )
    scoring._store, scoring._embedder = engine.store, engine.embedder
    confidences = dev_confidences(scoring, dev)
    threshold = calibrate(confidences, FALSE_REFUSAL_BUDGET)
    unanswerable = [c for ok, c in confidences if not ok]
    stats = {
        "train_questions": len(items),
        "train_candidates": sum(len(e.cands) for e in examples),
        "train_questions_with_a_positive": sum(1 for e in examples if e.labels.any()),
        "dev_questions": len(dev),
        "dev_refusal_recall": round(
            sum(c < threshold for c in unanswerable) / max(1, len(unanswerable)), 4
        ),
    }
    info: dict[str, object] = {
        "train_set": train_set.name,
        "dev_set": dev_set.name,
        "false_refusal_budget": FALSE_REFUSAL_BUDGET,
        **stats,
    }
    return ReaderModel(ranker, answerability, threshold, info), stats


def write_model(model: ReaderModel, path: Path = MODEL_PATH) -> str:
    """Write the model and its sha256 sidecar; returns the sha256."""
    text = model.to_json()
    path.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    path.with_suffix(".sha256").write_text(digest + "\n", encoding="utf-8")
    return digest
