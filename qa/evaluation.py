"""`newsqa eval`: retrieval, answer, citation, refusal and follow-up metrics over a question set."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.answer import Weights
from qa.api import Chat
from qa.engine import Engine
from qa.errors import UserError
from qa.settings import Settings
from qa.types import Answer

DEV_SET = Path(__file__).resolve().parent / "data" / "dev_set.jsonl"
# Retrieval only: the best-matching sentence (by embedding) of the top chunk, never a refusal.
NAIVE = Weights(
    dense=1.0,
    lexical=0.0,
    context=0.0,
    answer_type=0.0,
    rank=10.0,
    min_score=-1e9,
    min_dense=-1e9,
    max_unsupported=1e9,
    require_entities=False,
    check_heads=False,
    require_type=False,
    proximity=0.0,
    date_match=0.0,
    list_head=0.0,
    speaker_role=0.0,
    check_speakers=False,
    check_titles=False,
    continuity=0.0,
    rerank=0,
)
ABLATIONS: list[tuple[str, str, Weights | None]] = [
    ("dense only", "dense", NAIVE),
    ("BM25 only", "bm25", NAIVE),
    ("hybrid", "hybrid", NAIVE),
    ("hybrid + answer selection", "hybrid", None),
]


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    question: str
    context: list[str]
    answers: list[list[str]]
    sources: list[str]
    answerable: bool


def load_set(path: Path | None = None) -> list[Item]:
    path = path or DEV_SET
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"cannot read question set {path}: {exc.strerror}") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(
                Item(
                    str(raw["id"]),
                    str(raw.get("kind", "")),
                    str(raw["question"]),
                    list(raw.get("context", [])),
                    [list(g) for g in raw.get("answers", [])],
                    list(raw.get("sources", [])),
                    bool(raw.get("answerable", True)),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}:{number}: not a valid question ({exc})") from None
    if not items:
        raise UserError(f"{path} holds no questions")
    return items


def _contains(text: str, group: Iterable[str]) -> bool:
    low = text.lower()
    return any(alias.lower() in low for alias in group)


def answer_correct(item: Item, answer: Answer) -> bool:
    """Found, and every alias group present in the text (bold markers ignored)."""
    text = answer.text.replace("**", "")
    return answer.found and all(_contains(text, g) for g in item.answers)


def _words(answer: Answer) -> int:
    import re

    return len(re.sub(r"\[\d+\]", "", answer.text).split())


@dataclass
class Result:
    """Per-question outcome of one configuration."""

    item: Item
    answer: Answer
    ranked_files: list[str]
    seconds: float
    precise_citations: int = 0
    citations: int = 0


@dataclass
class Report:
    name: str
    results: list[Result] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        answerable = [r for r in self.results if r.item.answerable]
        unanswerable = [r for r in self.results if not r.item.answerable]
        followups = [r for r in answerable if r.item.kind == "followup"]
        ranks = []
        for r in answerable:
            rank = next((i for i, f in enumerate(r.ranked_files, 1) if f in r.item.sources), None)
            ranks.append(rank)
        found = [r for r in self.results if r.answer.found]
        lengths = [_words(r.answer) for r in found] or [0]
        times = sorted(r.seconds for r in self.results)
        citations = sum(r.citations for r in answerable)

        def share(n: int, d: int) -> float:
            return round(n / d, 4) if d else 0.0

        return {
            "questions": len(self.results),
            "hit@1": share(sum(1 for k in ranks if k == 1), len(ranks)),
            "hit@3": share(sum(1 for k in ranks if k is not None and k <= 3), len(ranks)),
            "mrr": round(sum(1 / k for k in ranks if k) / len(ranks), 4) if ranks else 0.0,
            "answer_accuracy": share(
                sum(answer_correct(r.item, r.answer) for r in answerable), len(answerable)
            ),
            "citation_precision": share(sum(r.precise_citations for r in answerable), citations),
            "refusal_recall": share(
                sum(not r.answer.found for r in unanswerable), len(unanswerable)
            ),
            "false_refusal_rate": share(
                sum(not r.answer.found for r in answerable), len(answerable)
            ),
            "followup_accuracy": share(
                sum(answer_correct(r.item, r.answer) for r in followups), len(followups)
            ),
            "median_words": statistics.median(lengths),
            "max_words": max(lengths),
            "p50_ms": round(1000 * times[len(times) // 2], 1) if times else 0.0,
            "p95_ms": round(1000 * times[min(len(times) - 1, int(0.95 * len(times)))], 1)
            if times
            else 0.0,
        }

    def failures(self) -> list[dict[str, Any]]:
        out = []
        for r in self.results:
            ok = answer_correct(r.item, r.answer) if r.item.answerable else not r.answer.found
            if r.item.answerable and r.precise_citations < r.citations:
                ok = False  # right words, but a cited quote is off-article or lacks the answer
            if not ok:
                out.append(
                    {
                        "id": r.item.id,
                        "kind": r.item.kind,
                        "question": r.item.question,
                        "query": r.answer.query,
                        "answer": r.answer.text,
                        "cited": [s.file for s in r.answer.sources],
                        "gold": r.item.answers,
                        "gold_sources": r.item.sources,
                    }
                )
        return out


def _precise(item: Item, answer: Answer, seeds: Path) -> int:
    good = 0
    for s in answer.sources:
        try:
            verbatim = (seeds / s.file).read_text(encoding="utf-8")[s.start : s.end] == s.quote
        except OSError:
            verbatim = False
        if verbatim and s.file in item.sources and any(_contains(s.quote, g) for g in item.answers):
            good += 1
    return good


def run_config(engine: Engine, items: list[Item], name: str) -> Report:
    from qa.filters import Filters

    report = Report(name)
    for item in items:
        chat = Chat(engine=engine)
        for earlier in item.context:
            chat.ask(earlier)
        started = time.perf_counter()
        answer = chat.ask(item.question)
        seconds = time.perf_counter() - started
        query = answer.query or item.question
        retriever = engine.retriever
        hits = retriever.retrieve(
            query, retriever.embed_query(query), engine.settings.top_k, Filters()
        )
        ranked = list(dict.fromkeys(str(h.meta["file"]) for h in hits))
        result = Result(item, answer, ranked, seconds)
        result.citations = len(answer.sources)
        result.precise_citations = _precise(item, answer, engine.settings.seeds_dir)
        report.results.append(result)
    return report


def evaluate(settings: Settings, items: list[Item], *, ablations: bool = True) -> list[Report]:
    """The full configuration first, then (optionally) the ablations; all on one store."""
    base = Engine(settings)
    base.ensure_ingested()
    configs = ABLATIONS[-1:] if not ablations else ABLATIONS[-1:] + ABLATIONS[:-1]
    reports = []
    for name, mode, weights in configs:
        engine = Engine(settings, mode=mode, weights=weights)
        engine._store, engine._embedder = (
            base.store,
            base.embedder,
        )  # share the open store and model
        engine.ask(items[0].question)  # warm-up, not timed
        reports.append(run_config(engine, items, name))
    return reports


def format_reports(reports: list[Report]) -> str:
    keys = [
        "hit@1",
        "hit@3",
        "mrr",
        "answer_accuracy",
        "citation_precision",
        "refusal_recall",
        "false_refusal_rate",
        "followup_accuracy",
        "median_words",
        "max_words",
        "p50_ms",
        "p95_ms",
    ]
    main = reports[0].metrics()
    lines = [f"{reports[0].name}: {main['questions']} questions"]
    lines += [f"  {k:<20} {main[k]}" for k in keys]
    if len(reports) > 1:
        head = [
            "configuration",
            "hit@1",
            "hit@3",
            "mrr",
            "accuracy",
            "cit.prec",
            "refusal",
            "false ref",
            "p50 ms",
        ]
        lines += ["", "ablations:", "  " + " | ".join(head)]
        for rep in reports[1:] + reports[:1]:
            m = rep.metrics()
            row = [
                rep.name,
                m["hit@1"],
                m["hit@3"],
                m["mrr"],
                m["answer_accuracy"],
                m["citation_precision"],
                m["refusal_recall"],
                m["false_refusal_rate"],
                m["p50_ms"],
            ]
            lines.append("  " + " | ".join(str(x) for x in row))
    return "\n".join(lines)
