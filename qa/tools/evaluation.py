"""`newsqa eval`: answer, citation, refusal and follow-up metrics over question sets (a dev tool,
never on the query path)."""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.api import Chat
from qa.articles import read_article_text
from qa.engine import Engine
from qa.errors import UserError
from qa.filters import Filters
from qa.settings import PROJECT_DIR, Settings
from qa.types import Answer

SETS_DIR = PROJECT_DIR / "tests" / "data" / "sets"
SEED_SETS = tuple(sorted(SETS_DIR.glob("seed_*.jsonl")))
BBC_DEV = SETS_DIR / "bbc_dev.jsonl"
MAX_WORDS = 60
# (name, retrieval mode, reader mode): the shipped reader first, then its ablations.
CONFIGS: list[tuple[str, str, str]] = [
    ("reader", "hybrid", "reader"),
    ("reader, never refusing", "hybrid", "always-answer"),
    ("reader, dense retrieval only", "dense", "reader"),
    ("reader, BM25 retrieval only", "bm25", "reader"),
    ("baseline: BM25 top-1 sentence", "bm25", "bm25-sentence"),
    ("ablation: no answer-type rules", "hybrid", "no-answer-types"),
    ("ablation: no head-noun types", "hybrid", "no-head-nouns"),
    ("ablation: no clause trim", "hybrid", "no-clause-trim"),
    ("ablation: no cross-encoder", "hybrid", "no-cross-encoder"),
]


@dataclass(frozen=True)
class Item:
    """One question of a set; `context` holds the earlier turns of a follow-up."""

    id: str
    kind: str
    style: str
    question: str
    context: list[str]
    answers: list[list[str]]
    sources: list[str]
    support: list[str]
    answerable: bool

    @property
    def followup(self) -> bool:
        return bool(self.context)


def load_set(path: Path) -> list[Item]:
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
                    str(raw.get("style", "")),
                    str(raw["question"]),
                    [str(c) for c in raw.get("context", [])],
                    [[str(a) for a in g] for g in raw.get("answers", [])],
                    [str(s) for s in raw.get("sources", [])],
                    [str(s) for s in raw.get("support", [])],
                    bool(raw.get("answerable", True)),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}:{number}: not a valid question ({exc})") from None
    if not items:
        raise UserError(f"{path} holds no questions")
    return items


def contains_alias(text: str, group: list[str]) -> bool:
    low = text.lower()
    return any(alias.lower() in low for alias in group)


def words_of(answer: Answer) -> int:
    return len(re.sub(r"\[\d+\]", "", answer.text).split())


def answer_correct(item: Item, answer: Answer) -> bool:
    """Found, at most MAX_WORDS words, and one alias of every group in the text."""
    return (
        answer.found
        and words_of(answer) <= MAX_WORDS
        and all(contains_alias(answer.text, g) for g in item.answers)
    )


@dataclass
class Result:
    item: Item
    answer: Answer
    ranked_files: list[str]
    seconds: float
    citations: int = 0
    precise_citations: int = 0  # verbatim, from a gold file, and holding an alias of each group

    @property
    def right(self) -> bool:
        """An answerable item answered correctly, or an unanswerable one refused."""
        if self.item.answerable:
            return answer_correct(self.item, self.answer)
        return not self.answer.found


# What became of a question under a generative answerer, in pipeline order.
OUTCOMES = ("refused before the LLM", "LLM said not found", "fell back to extractive", "LLM kept")


@dataclass
class Report:
    name: str
    results: list[Result] = field(default_factory=list)
    generative: bool = False

    def llm_outcomes(self) -> dict[str, dict[str, int]]:
        """Per outcome (OUTCOMES), how many questions ended there and how many of those were
        right; empty for the extractive reader."""
        if not self.generative:
            return {}
        from qa.generative.answerer import FALLBACK

        out = {name: {"questions": 0, "right": 0} for name in OUTCOMES}
        for r in self.results:
            a = r.answer
            if any(FALLBACK in w for w in a.warnings):
                name = OUTCOMES[2]
            elif a.answered_by:
                name = OUTCOMES[3] if a.found else OUTCOMES[1]
            else:
                name = OUTCOMES[0]
            out[name]["questions"] += 1
            out[name]["right"] += int(r.right)
        return out

    def metrics(self) -> dict[str, Any]:
        answerable = [r for r in self.results if r.item.answerable]
        unanswerable = [r for r in self.results if not r.item.answerable]
        followups = [r for r in self.results if r.item.followup]
        ranks = [
            next((i for i, f in enumerate(r.ranked_files, 1) if f in r.item.sources), None)
            for r in answerable
        ]
        found = [r for r in self.results if r.answer.found]
        lengths = [words_of(r.answer) for r in found] or [0]
        times = sorted(r.seconds for r in self.results)

        def share(n: int, d: int) -> float:
            return round(n / d, 4) if d else 0.0

        return {
            "questions": len(self.results),
            "answerable": len(answerable),
            "hit@1": share(sum(1 for k in ranks if k == 1), len(ranks)),
            "hit@3": share(sum(1 for k in ranks if k is not None and k <= 3), len(ranks)),
            "answer_accuracy": share(sum(r.right for r in answerable), len(answerable)),
            "citation_precision": share(
                sum(r.precise_citations for r in answerable), sum(r.citations for r in answerable)
            ),
            "refusal_recall": share(sum(r.right for r in unanswerable), len(unanswerable)),
            "false_refusal_rate": share(
                sum(not r.answer.found for r in answerable), len(answerable)
            ),
            "followup_accuracy": share(sum(r.right for r in followups), len(followups)),
            "median_words": statistics.median(lengths),
            "max_words": max(lengths),
            "p50_ms": round(1000 * times[len(times) // 2], 1) if times else 0.0,
            "answered_by_llm": share(
                sum(bool(r.answer.answered_by) for r in self.results), len(self.results)
            ),
        }

    def failures(self) -> list[dict[str, Any]]:
        out = []
        for r in self.results:
            ok = r.right
            if r.precise_citations < r.citations and r.item.answerable:
                ok = False
            if not ok:
                out.append(
                    {
                        "id": r.item.id,
                        "question": r.item.question,
                        "context": r.item.context,
                        "query": r.answer.query,
                        "answer": r.answer.text,
                        "confidence": round(r.answer.confidence, 3),
                        "cited": [s.file for s in r.answer.sources],
                        "gold": r.item.answers,
                        "gold_sources": r.item.sources,
                    }
                )
        return out


def precise_citations(item: Item, answer: Answer, seeds: Path) -> int:
    """Citations whose quote is verbatim at its offsets, in a gold file, and holds the answer."""
    good = 0
    for s in answer.sources:
        try:
            verbatim = read_article_text(seeds / s.file)[s.start : s.end] == s.quote
        except OSError:
            verbatim = False
        holds = all(contains_alias(s.quote, g) for g in item.answers)
        if verbatim and s.file in item.sources and holds:
            good += 1
    return good


def run_config(engine: Engine, items: list[Item], name: str, llm: str | None = None) -> Report:
    """Every item through a fresh `Chat` (its earlier turns first); `llm`: a generative one."""
    report = Report(name, generative=bool(llm))
    for item in items:
        chat = Chat(engine=engine, llm=llm or "off")
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
        result = Result(
            item, answer, list(dict.fromkeys(str(h.meta["file"]) for h in hits)), seconds
        )
        result.citations = len(answer.sources)
        result.precise_citations = precise_citations(item, answer, engine.settings.seeds_dir)
        report.results.append(result)
    return report


def evaluate(
    settings: Settings,
    items: list[Item],
    *,
    ablations: bool = True,
    model: Any = None,
    llm: str | None = None,
) -> list[Report]:
    """The shipped reader first, then (optionally) the ablations; all share one open store.

    With `llm`, the generative answerer (citations checked) comes first, the reader after it.
    """
    base = Engine(settings, model=model)
    base.ensure_ingested()
    configs: list[tuple[str, str, str, str | None]] = [(*c, None) for c in CONFIGS]
    if not ablations:
        configs = configs[:1]
    elif settings.rerank == "off":  # without the cross-encoder that row is the reader's own
        configs = [c for c in configs if c[2] != "no-cross-encoder"]
    if llm:
        from qa.generative.spec import parse_spec

        spec = parse_spec(llm)
        if spec is not None:
            configs.insert(0, (f"{spec.label}, citations checked", "hybrid", "reader", llm))
    reports = []
    for name, mode, reader_mode, answerer in configs:
        engine = Engine(settings, mode=mode, reader_mode=reader_mode, model=model)
        engine._open(base.store)
        engine._embedder = base.embedder
        Chat(engine=engine, llm=answerer or "off").ask(items[0].question)  # warm-up, not timed
        reports.append(run_config(engine, items, name, answerer))
    return reports


KEYS = (
    "answer_accuracy",
    "citation_precision",
    "refusal_recall",
    "false_refusal_rate",
    "followup_accuracy",
    "hit@1",
    "hit@3",
    "median_words",
    "max_words",
    "p50_ms",
)
_SHORT = {
    "answer_accuracy": "accuracy",
    "citation_precision": "cit.prec",
    "refusal_recall": "refusal",
    "false_refusal_rate": "false ref",
    "followup_accuracy": "follow-up",
    "median_words": "med.words",
    "max_words": "max words",
}


def format_reports(title: str, reports: list[Report]) -> str:
    """One table: a row per configuration, the shipped reader first."""
    head = ["configuration"] + [_SHORT.get(k, k) for k in KEYS]
    first = reports[0].metrics()
    lines = [
        f"{title}: {first['questions']} questions ({first['answerable']} answerable)",
        " | ".join(head),
        " | ".join(["---"] * len(head)),
    ]
    for rep in reports:
        m = rep.metrics()
        lines.append(" | ".join([rep.name] + [str(m[k]) for k in KEYS]))
    for rep in reports:
        if outcomes := rep.llm_outcomes():
            shown = ", ".join(
                f"{n['questions']} {name} ({n['right']} right)" for name, n in outcomes.items()
            )
            lines.append(f"{rep.name}: {shown}")
    return "\n".join(lines)
