"""`newsqa bench`: speed, memory and answer quality on a generated corpus, side by side.

One run builds a corpus of N generated articles with the five seeds mixed in (`qa.tools.corpus`) and
measures, each as the median of several runs where a run is cheap enough:

* raw embedder throughput on exactly the chunks `newsqa ingest` will embed, `newsqa ingest`
  throughput on them (fresh store, a real subprocess), and their ratio;
* the same corpus ingested the naive llama-index way (`VectorStoreIndex.from_documents`);
* a no-op re-ingest of the whole corpus;
* warm `ask()` latency (p50/p95) and answer accuracy over the development set, on the seeds
  alone and on the big corpus;
* cold `newsqa ask` wall time, TUI time-to-ready, and the peak RSS of ingest and query processes.

Heavy children (ingest, naive ingest, queries, TUI) run as subprocesses of this one, so each is
measured cold and alone; VmHWM gives each child's own peak RSS.

`--vectors hashed` (pseudo-vectors, no NER: 100,000 articles fit on two cores) or `--corpus DIR`
(a real folder) switch to the scale mode in `qa.tools.scale`: open, status, re-ingest, query
and server costs against the corpus size, with issue 11's targets.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import UserError

if TYPE_CHECKING:
    from qa.tools.scale import ScaleOptions

DEFAULT_ARTICLES = 10_000


def _cold_case() -> tuple[str, str]:
    """The cold-start question and an alias of its answer: the seed dev set's second question."""
    import json

    from qa.tools.evaluation import SETS_DIR

    lines = (SETS_DIR / "seed_dev.jsonl").read_text(encoding="utf-8").splitlines()
    case = json.loads(lines[1])
    return str(case["question"]), str(case["answers"][0][0])


DEV_SET = "seed_dev.jsonl"  # in qa.tools.evaluation.SETS_DIR: the seed dev set, 90 questions
_CLEAN_ENV = ("QA_CHROMA_URL", "QA_CHROMA_TOKEN", "QA_COLLECTION", "QA_STORE_DIR", "QA_SEEDS_DIR")

Log = Callable[[str], None]


@dataclass
class Metric:
    """One row of the table: a measured value, its target and whether it is met."""

    name: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None
    runs: int = 1
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "target": self.target or None,
            "ok": self.ok,
            "runs": self.runs,
            "note": self.note or None,
        }


@dataclass
class Child:
    """A finished subprocess: exit code, output, wall and CPU seconds, its own peak RSS."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float
    started: float  # time.time() just before the spawn
    cpu_seconds: float = 0.0  # user + system

    def check(self, what: str) -> Child:
        if self.returncode != 0:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{what} failed (exit {self.returncode}):\n{tail}")
        return self

    def json(self) -> Any:
        return json.loads(self.stdout.strip().splitlines()[-1])


def child_env() -> dict[str, str]:
    """The environment for children: local stores only, whatever QA_* the caller has set."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEAN_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("ANONYMIZED_TELEMETRY", "False")
    return env


def _vm_hwm_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM) so far, or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = 3600,
    env: Mapping[str, str] | None = None,
) -> Child:
    """Run `args` (with `env` added to `child_env()`); its wall time, CPU time and peak RSS.

    Peak RSS is VmHWM from /proc/PID/status, read by a watcher thread until the child exits:
    `ru_maxrss` would report at least the parent's own RSS, inherited through fork/exec.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        cpu_before = _children_cpu()
        started = time.time()
        begin = time.perf_counter()
        environ = {**child_env(), **(env or {})}
        proc = subprocess.Popen(list(args), stdout=out, stderr=err, env=environ, cwd=cwd)
        peak = [0.0]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                value = _vm_hwm_mb(proc.pid)
                if value is not None:
                    peak[0] = value  # the last reading counts: VmHWM only grows after exec
                done.wait(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            returncode = proc.wait()
        seconds = time.perf_counter() - begin
        done.set()
        watcher.join()
        out.seek(0)
        err.seek(0)
        return Child(
            returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            peak[0],
            started,
            _children_cpu() - cpu_before,
        )


def newsqa_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa", *args]


def bench_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa.tools.bench", *args]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# ---- children: run with `python -m qa.tools.bench MODE …` ---------------------------------


def _child_naive(corpus: str, store: str) -> None:
    """Ingest the corpus the way the llama-index quick start does; print the seconds taken."""
    import chromadb
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from qa.llama_embedding import MiniLMEmbedding
    from qa.settings import Settings
    from qa.store import _chroma_settings

    settings = Settings()
    LlamaSettings.llm = MockLLM()
    started = time.perf_counter()
    embedder = MiniLMEmbedding(settings.threads, settings.batch_size, settings.cache_dir)
    client = chromadb.PersistentClient(path=store, settings=_chroma_settings())
    collection = client.get_or_create_collection(
        "naive", embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
    documents = SimpleDirectoryReader(corpus).load_data()
    VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(
            vector_store=ChromaVectorStore(chroma_collection=collection)
        ),
        embed_model=embedder,
    )
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "nodes": collection.count(), "docs": len(documents)}))


def _child_query(corpus: str, store: str, runs: str) -> None:
    """Open the engine, answer the dev set `runs` times; print latency, accuracy, phase times."""
    from qa.engine import Engine
    from qa.settings import Settings
    from qa.tools.evaluation import SETS_DIR, load_set, run_config

    items = load_set(SETS_DIR / DEV_SET)
    engine = Engine(Settings().with_overrides(seeds=corpus, store=store))
    phases: dict[str, float] = {}
    begin = time.perf_counter()
    _ = engine.store
    phases["open_store_s"] = time.perf_counter() - begin
    mark = time.perf_counter()
    _ = engine.embedder
    phases["load_model_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _ = engine.retriever
    phases["build_retriever_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _ = engine.reader
    phases["build_reader_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    engine.ask(items[0].question)
    phases["first_ask_s"] = time.perf_counter() - mark
    phases["open_total_s"] = time.perf_counter() - begin
    passes = []
    for _ in range(int(runs)):
        report = run_config(engine, items, "bench")
        times = [r.seconds * 1000 for r in report.results]
        metrics = report.metrics()
        passes.append(
            {
                "p50_ms": percentile(times, 50),
                "p95_ms": percentile(times, 95),
                "max_ms": max(times),
                "answer_accuracy": metrics["answer_accuracy"],
                "refusal_recall": metrics["refusal_recall"],
                "hit@1": metrics["hit@1"],
            }
        )
    print(
        json.dumps(
            {"phases": phases, "passes": passes, "chunks": engine.store.count(), "n": len(items)}
        )
    )


CHILDREN: dict[str, Callable[..., None]] = {
    "naive": _child_naive,
    "query": _child_query,
}


# ---- the benchmark -------------------------------------------------------------------------


@dataclass
class Runs:
    """How many times each measurement is repeated (medians are reported)."""

    heavy: int  # full-corpus embedding passes: raw, ingest, naive ingest
    light: int  # no-op re-ingest, cold ask, TUI start, dev-set passes

    @classmethod
    def auto(cls, chunks: int) -> Runs:
        # A 10k corpus is ~13k chunks, ~8 min per embedding pass on 2 cores: one pass each.
        heavy = 3 if chunks <= 120 else 2 if chunks <= 200 else 1
        return cls(heavy=heavy, light=3)


@dataclass
class BenchResult:
    articles: int
    corpus_articles: int
    chunks: int
    runs: Runs
    metrics: list[Metric] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "corpus_articles": self.corpus_articles,
            "chunks": self.chunks,
            "runs": {"heavy": self.runs.heavy, "light": self.runs.light},
            "metrics": {m.name: m.to_dict() for m in self.metrics},
            "all_ok": all(m.ok is not False for m in self.metrics),
            "details": self.details,
            "seconds": round(self.seconds, 1),
        }

    def table(self) -> str:
        return format_table(self.to_dict())


def format_table(data: dict[str, Any]) -> str:
    """The Markdown table of a bench result (`BenchResult.to_dict()` or its saved JSON)."""
    title = data.get("details", {}).get("title") or (
        f"newsqa bench: {data['corpus_articles']} articles ({data['articles']} generated + "
        f"seeds), {data['chunks']} chunks"
    )
    lines = [
        f"{title}, {data['seconds']:.0f} s",
        "",
        "| metric | measured | target | ok |",
        "|---|---|---|---|",
    ]
    for name, m in data["metrics"].items():
        if m["value"] is None:
            value = "pending"
        elif not m["unit"]:  # accuracies: 0..1
            value = f"{m['value']:.3f}"
        else:
            value = f"{_fmt(m['value'])} {m['unit']}"
        if m["runs"] > 1:
            value += f" (median of {m['runs']})"
        ok = {True: "✅", False: "❌", None: "—"}[m["ok"]]
        note = f" — {m['note']}" if m["note"] else ""
        lines.append(f"| {name}{note} | {value} | {m['target'] or '—'} | {ok} |")
    return "\n".join(lines)


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 or value == 0 else f"{value:.3f}"


def _at_least(value: float, bound: float) -> bool:
    return value >= bound


def _at_most(value: float, bound: float) -> bool:
    return value <= bound


def run_bench(
    articles: int = DEFAULT_ARTICLES,
    *,
    workdir: Path | None = None,
    runs: Runs | None = None,
    seed: int | None = None,
    log: Log | None = None,
    tui: bool = True,
    scale: ScaleOptions | None = None,
) -> BenchResult:
    """Build the corpus in `workdir` (a temporary folder by default) and measure everything.

    With `scale` (`--vectors hashed` or `--corpus DIR`), the scale mode of `qa.tools.scale`.
    """
    if articles < 1:
        raise UserError("--articles must be at least 1")
    say: Log = log or (lambda _msg: None)
    started = time.perf_counter()
    own_dir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="newsqa-bench-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    try:
        if scale is not None:
            from qa.tools.scale import run_scale

            return run_scale(scale, work, runs, seed, say)
        return _run(articles, work, runs, seed, say, tui, started)
    finally:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)


def _run(
    articles: int,
    work: Path,
    runs: Runs | None,
    seed: int | None,
    say: Log,
    tui: bool,
    started: float,
) -> BenchResult:
    from qa.articles import load_articles
    from qa.chunking import chunk_article
    from qa.embedder import MiniLMEmbedder as MiniLMEmbedding
    from qa.settings import Settings
    from qa.tools.corpus import DEFAULT_SEED, write_corpus

    settings = Settings()
    corpus = work / "corpus"
    say(f"writing {articles} articles + seeds to {corpus}")
    corpus_articles = write_corpus(
        corpus, articles, seeds_dir=settings.seeds_dir, seed=DEFAULT_SEED if seed is None else seed
    )
    seeds_only = work / "seeds"
    write_corpus(seeds_only, 0, seeds_dir=settings.seeds_dir)

    say("chunking")
    loaded = load_articles(corpus)
    texts = [
        c.text
        for a in loaded.articles
        for c in chunk_article(a, settings.chunk_tokens, settings.chunk_overlap)
    ]
    runs = runs or Runs.auto(len(texts))
    result = BenchResult(articles, corpus_articles, len(texts), runs)
    details = result.details
    details["corpus_words"] = sum(len(a.body.split()) for a in loaded.articles)
    details["machine"] = {"cpus": os.cpu_count(), "threads": settings.threads}

    # 1. raw embedder throughput on exactly these chunks (warm model, one call = global sort)
    embedder = MiniLMEmbedding(settings.threads, settings.batch_size, settings.cache_dir)
    embedder.embed(texts[:64])
    raw: list[float] = []
    raw_cpu: list[float] = []
    for i in range(runs.heavy):
        say(f"raw embedding {len(texts)} chunks ({i + 1}/{runs.heavy})")
        cpu = time.process_time()
        begin = time.perf_counter()
        embedder.embed(texts)
        raw.append(len(texts) / (time.perf_counter() - begin))
        raw_cpu.append(time.process_time() - cpu)
    del embedder
    raw_cps = median(raw)

    # 2. `newsqa ingest` into a fresh store, as a user runs it
    ingest_cps: list[float] = []
    ingest_s: list[float] = []
    ingest_rss: list[float] = []
    ingest_cpu: list[float] = []
    big_store = work / "store"
    for i in range(runs.heavy):
        say(f"newsqa ingest, fresh store ({i + 1}/{runs.heavy})")
        shutil.rmtree(big_store, ignore_errors=True)
        child = run_child(
            newsqa_cmd("ingest", "--json", "--seeds", str(corpus), "--store", str(big_store))
        ).check("newsqa ingest")
        report = child.json()
        if report["chunks_embedded"] != len(texts):
            raise RuntimeError(
                f"ingest embedded {report['chunks_embedded']} chunks, expected {len(texts)}"
            )
        ingest_cps.append(report["chunks_embedded"] / report["seconds"])
        ingest_s.append(child.seconds)
        ingest_rss.append(child.peak_rss_mb)
        ingest_cpu.append(child.cpu_seconds)
    ours_cps = median(ingest_cps)
    details["ingest_wall_s"] = median(ingest_s)

    # 3. the naive llama-index way, same embedder, fresh Chroma store
    naive_s: list[float] = []
    naive_cpu: list[float] = []
    for i in range(runs.heavy):
        say(f"naive llama-index ingest ({i + 1}/{runs.heavy})")
        naive_store = work / "naive-store"
        shutil.rmtree(naive_store, ignore_errors=True)
        child = run_child(bench_cmd("naive", str(corpus), str(naive_store))).check("naive ingest")
        data = child.json()
        naive_s.append(float(data["seconds"]))
        naive_cpu.append(child.cpu_seconds)
        details["naive_nodes"] = data["nodes"]
        shutil.rmtree(naive_store, ignore_errors=True)
    ours_s = len(texts) / ours_cps

    # 4. no-op re-ingest of the whole corpus (the store from step 2)
    noop: list[float] = []
    for i in range(runs.light):
        say(f"no-op re-ingest ({i + 1}/{runs.light})")
        child = run_child(
            newsqa_cmd("ingest", "--json", "--seeds", str(corpus), "--store", str(big_store))
        ).check("no-op ingest")
        report = child.json()
        if report["chunks_embedded"] != 0 or report["unchanged"] != corpus_articles:
            raise RuntimeError(f"re-ingest was not a no-op: {report}")
        noop.append(child.seconds)
        details["noop_ingest_inner_s"] = report["seconds"]

    # 5. warm queries: latency and accuracy on the seeds alone and on the big corpus
    seeds_store = work / "seeds-store"
    run_child(
        newsqa_cmd("ingest", "--json", "--seeds", str(seeds_only), "--store", str(seeds_store))
    ).check("seeds ingest")
    query: dict[str, dict[str, Any]] = {}
    query_rss: dict[str, float] = {}
    for name, folder, store in (
        ("seeds", seeds_only, seeds_store),
        ("big", corpus, big_store),
    ):
        say(f"warm ask() over the dev set, {name} ({runs.light} passes)")
        child = run_child(bench_cmd("query", str(folder), str(store), str(runs.light))).check(
            f"queries on {name}"
        )
        query[name] = child.json()
        query_rss[name] = child.peak_rss_mb
    details["query_phases"] = {k: v["phases"] for k, v in query.items()}

    def qmedian(name: str, key: str) -> float:
        return median([p[key] for p in query[name]["passes"]])

    # 6. cold `newsqa ask` processes, interleaved with the bare imports they are compared to
    from qa.tools.scale import cold_asks

    cold, import_runs, cold_ok = cold_asks(
        {"seeds": (seeds_only, seeds_store), "big": (corpus, big_store)},
        runs.light,
        say,
        {"seeds", "big"},
    )

    # 7. TUI time-to-ready (first frame accepting input), and time until answers can start
    tui_ready: list[float] = []
    tui_store_ready: list[float] = []
    tui_note = ""
    if tui:
        for i in range(runs.light):
            say(f"TUI time-to-ready ({i + 1}/{runs.light})")
            # The UI runs in its own process (`python -m tui.probe`): the library never imports it.
            probe = [sys.executable, "-m", "tui.probe", str(corpus), str(big_store)]
            child = run_child(probe, timeout=900)
            marks = dict(
                line.split(" ", 1)
                for line in child.stdout.splitlines()
                if line.startswith(("READY ", "STORE_READY "))
            )
            if child.returncode != 0 or "READY" not in marks:
                tail = (child.stderr.strip().splitlines() or ["no output"])[-1]
                tui_note = f"pending: {tail[:120]}"
                break
            tui_ready.append(float(marks["READY"]) - child.started)
            if "STORE_READY" in marks:
                tui_store_ready.append(float(marks["STORE_READY"]) - child.started)
    else:
        tui_note = "skipped"

    # ---- the table --------------------------------------------------------------------------
    m = result.metrics
    h, lt = runs.heavy, runs.light
    m.append(Metric("raw embedder throughput", raw_cps, "chunks/s", runs=h))
    m.append(Metric("newsqa ingest throughput", ours_cps, "chunks/s", runs=h))
    ratio = ours_cps / raw_cps
    m.append(Metric("ingest / raw embedder", ratio, "×", "≥ 0.85", _at_least(ratio, 0.85), h))
    m.append(Metric("newsqa ingest time", ours_s, "s", runs=h))
    naive = median(naive_s)
    m.append(Metric("naive llama-index ingest time", naive, "s", runs=h))
    m.append(
        Metric(
            "naive / newsqa ingest time",
            naive / ours_s,
            "×",
            "≥ 1.0",
            _at_least(naive / ours_s, 1.0),
            h,
        )
    )
    noop_s = median(noop)
    m.append(Metric("no-op re-ingest (process)", noop_s, "s", "≤ 20", _at_most(noop_s, 20), lt))
    for name, bound in (("seeds", 30.0), ("big", 50.0)):
        label = "seeds" if name == "seeds" else f"{corpus_articles} articles"
        p50, p95 = qmedian(name, "p50_ms"), qmedian(name, "p95_ms")
        m.append(
            Metric(f"warm ask p50, {label}", p50, "ms", f"≤ {bound:.0f}", _at_most(p50, bound), lt)
        )
        m.append(
            Metric(
                f"warm ask p95, {label}",
                p95,
                "ms",
                f"≤ 2×p50 ({2 * p50:.0f})",
                _at_most(p95, 2 * p50),
                lt,
            )
        )
    acc_seeds = query["seeds"]["passes"][0]["answer_accuracy"]
    acc_big = query["big"]["passes"][0]["answer_accuracy"]
    m.append(Metric("answer accuracy, seeds", acc_seeds, ""))
    m.append(Metric(f"answer accuracy, {corpus_articles} articles", acc_big, ""))
    drop = 100 * (acc_seeds - acc_big)
    m.append(Metric("accuracy drop", drop, "points", "≤ 3", _at_most(drop, 3)))
    details["refusal_recall"] = {k: v["passes"][0]["refusal_recall"] for k, v in query.items()}
    details["hit@1"] = {k: v["passes"][0]["hit@1"] for k, v in query.items()}
    for name in ("seeds", "big"):
        label = "seeds" if name == "seeds" else f"{corpus_articles} articles"
        value = median(cold[name])
        note = "" if cold_ok else "wrong answer"
        m.append(Metric(f"cold newsqa ask, {label}", value, "s", runs=lt, note=note))
    base = median(import_runs)
    big_label = f"{corpus_articles} articles"
    m.append(Metric('python -c "import chromadb, onnxruntime"', base, "s", runs=lt))
    for name, ratio, bound in (
        (f"cold ask {big_label} ÷ seeds", median(cold["big"]) / median(cold["seeds"]), 1.15),
        (f"cold ask {big_label} ÷ import", median(cold["big"]) / base, 1.6),
    ):
        m.append(Metric(name, ratio, "×", f"≤ {bound}", _at_most(ratio, bound), lt))
    ready = median(tui_ready) if tui_ready else None
    m.append(
        Metric(
            f"TUI time-to-ready, {corpus_articles} articles",
            ready,
            "s",
            "≤ 2.5",
            None if ready is None else _at_most(ready, 2.5),
            len(tui_ready) or 1,
            tui_note,
        )
    )
    if tui_store_ready:
        m.append(
            Metric(
                "TUI time until answers can start",
                median(tui_store_ready),
                "s",
                runs=len(tui_store_ready),
            )
        )
    peak = max(ingest_rss)
    m.append(Metric("peak RSS, ingest process", peak, "MB", "≤ 600", _at_most(peak, 600), h))
    m.append(
        Metric(
            f"peak RSS, warm query process, {corpus_articles} articles",
            query_rss["big"],
            "MB",
            "≤ 500",
            _at_most(query_rss["big"], 500),
        )
    )
    m.append(
        Metric(
            "peak RSS, warm query process, seeds",
            query_rss["seeds"],
            "MB",
            "≤ 400",
            _at_most(query_rss["seeds"], 400),
        )
    )
    # CPU seconds are far less sensitive than wall time to other load on the machine; the
    # child processes' figures include their interpreter start and imports (~2-3 s).
    details["cpu_s"] = {
        "raw_embed": median(raw_cpu),
        "ingest_process": median(ingest_cpu),
        "naive_process": median(naive_cpu),
    }
    details["raw_runs"] = raw
    details["ingest_runs"] = ingest_cps
    details["naive_runs"] = naive_s
    details["noop_runs"] = noop
    details["cold_ask_runs"] = {**cold, "import": import_runs}
    details["tui_ready_runs"] = tui_ready
    result.seconds = time.perf_counter() - started
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m qa.tools.bench MODE …`: the benchmark's child processes, and `table FILE.json`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "table":
        print(format_table(json.loads(Path(args[1]).read_text(encoding="utf-8"))))
        return 0
    from qa.tools.scale import CHILDREN as SCALE_CHILDREN

    children = {**CHILDREN, **SCALE_CHILDREN}
    if not args or args[0] not in children:
        modes = ",".join(children)
        print(f"usage: python -m qa.tools.bench {{{modes},table}} ARGS…", file=sys.stderr)
        return 2
    children[args[0]](*args[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
