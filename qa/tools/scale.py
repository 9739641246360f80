"""`newsqa bench --vectors hashed` / `--corpus DIR`: the scale mode of the benchmark.

It measures what must not grow with the corpus (issue 11): the cold `newsqa ask` against a
seeds-only store and against `python -c "import chromadb, onnxruntime"`, warm `ask()` latency and
the query process's peak RSS, `status`, a no-op re-ingest, and a second client of a Chroma server
that never ingested. With `--vectors hashed` the big store holds deterministic pseudo-vectors
(`qa.tools.hashed`) and no entity spans, so 100,000 articles fit in minutes on two cores; the
questions are still embedded by the real model, and answer accuracy is not reported there.

Every heavy step is a child process (`python -m qa.tools.bench MODE …`), so its wall time and
peak RSS are its own; the cheap ones are repeated and their medians reported, and the cold-start
runs interleave the three commands so that other load on the machine hits them alike.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import UserError
from qa.tools.bench import (
    DEV_SET,
    BenchResult,
    Child,
    Log,
    Metric,
    Runs,
    _at_most,
    _cold_case,
    bench_cmd,
    median,
    newsqa_cmd,
    percentile,
    run_child,
)

VECTORS = ("model", "hashed")
SERVER_ARTICLES = 10_000  # issue 11's server target is stated at 10k articles
IMPORT_BASELINE = [sys.executable, "-c", "import chromadb, onnxruntime"]

# Issue 11's targets.
COLD_VS_SEEDS = 1.15
COLD_VS_IMPORT = 1.6
WARM_P50_MS = 50.0
SEEDS_RSS_MB = 400.0
BIG_RSS_MB = 500.0
STATUS_S = 0.3
NOOP_S = 20.0
INGEST_RSS_MB = 600.0  # real embedder, at 10k
ACCURACY_DROP = 3.0  # points, real embedder, at 10k
SERVER_P50_MS = 80.0


# ---- children: `python -m qa.tools.bench MODE …` --------------------------------------------


def _settings(corpus: str, store: str) -> Any:
    """Settings from the environment (QA_CHROMA_URL for a server), this corpus and store."""
    from qa.settings import Settings

    return Settings.from_env().with_overrides(seeds=corpus, store=store)


def child_ingest_hashed(corpus: str, store: str) -> None:
    """Ingest with hashed vectors and no NER; print the report and what was (not) loaded."""
    from qa.engine import Engine
    from qa.tools.hashed import HashedEmbedding, no_entities

    embedder = HashedEmbedding()
    engine = Engine(_settings(corpus, store), embedder=embedder, tagger=no_entities)
    report = engine.ingest().to_dict()
    report["hashed_texts"] = embedder.texts_embedded
    # The model lives in qa.embedder on onnxruntime, NER in spaCy: none of them may be loaded.
    report["model_loaded"] = "qa.embedder" in sys.modules or "onnxruntime" in sys.modules
    report["spacy_loaded"] = "spacy" in sys.modules
    report["skipped"] = len(report["skipped"])
    print(json.dumps(report))


def child_status(corpus: str, store: str) -> None:
    """Time `Engine(settings).status()` on a fresh engine; chromadb is imported beforehand
    (imports are the cold-start rows' business) and timed apart as `import_s`."""
    begin = time.perf_counter()
    import chromadb  # noqa: F401

    from qa.engine import Engine

    imported = time.perf_counter()
    info = Engine(_settings(corpus, store)).status()
    seconds = time.perf_counter() - imported
    keys = ("articles", "chunks", "complete", "generation")
    print(
        json.dumps({"seconds": seconds, "import_s": imported - begin, **{k: info[k] for k in keys}})
    )


def child_warm(corpus: str, store: str, passes: str) -> None:
    """Open an engine once, ask the seed dev set's questions `passes` times; print latencies.

    Each question is asked alone (a follow-up without its context is still a question). The
    first question, which opens the store and loads the model, is timed apart and not counted.
    """
    from qa.engine import Engine
    from qa.tools.evaluation import SETS_DIR, load_set

    questions = [item.question for item in load_set(SETS_DIR / DEV_SET)]
    engine = Engine(_settings(corpus, store))
    begin = time.perf_counter()
    engine.ask(questions[0])
    first = time.perf_counter() - begin
    runs: list[dict[str, float]] = []
    found = 0
    for _ in range(int(passes)):
        times = []
        found = 0
        for question in questions:
            mark = time.perf_counter()
            answer = engine.ask(question)
            times.append((time.perf_counter() - mark) * 1000)
            found += answer.found
        runs.append(
            {
                "p50_ms": percentile(times, 50),
                "p95_ms": percentile(times, 95),
                "max_ms": max(times),
            }
        )
    print(
        json.dumps(
            {
                "first_ask_s": first,
                "passes": runs,
                "n": len(questions),
                "found": found,
                "chunks": engine.store.count(),
            }
        )
    )


CHILDREN: dict[str, Callable[..., None]] = {
    "ingest-hashed": child_ingest_hashed,
    "status": child_status,
    "warm": child_warm,
}


# ---- a real Chroma server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def heartbeat(url: str) -> bool:
    """True if a Chroma server answers its heartbeat at `url`."""
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as reply:
            return reply.status == 200 and "heartbeat" in reply.read().decode()
    except OSError:
        return False


@contextmanager
def chroma_server(path: Path, timeout: float = 90) -> Iterator[str]:
    """`chroma run --path PATH` on a free loopback port; its URL; stopped (killed if need be)."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        raise RuntimeError(f"chroma executable not found at {chroma}")
    path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with (path / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(chroma), "run", "--path", str(path / "data"), "--host", "127.0.0.1"]
            + ["--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while not heartbeat(url):
                if server.poll() is not None:
                    raise RuntimeError(f"chroma server exited with {server.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"chroma server did not answer within {timeout:.0f} s")
                time.sleep(0.2)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# ---- the scale run --------------------------------------------------------------------------


@dataclass
class ScaleOptions:
    articles: int
    vectors: str = "hashed"
    corpus: Path | None = None  # a real folder instead of a generated corpus
    server: bool = True
    server_articles: int = SERVER_ARTICLES


def _ingest(
    vectors: str, corpus: Path, store: Path, env: Mapping[str, str] | None = None
) -> tuple[Child, dict[str, Any]]:
    """One fresh ingest of `corpus` into `store` (or the server in `env`), as a child."""
    if vectors == "hashed":
        args = bench_cmd("ingest-hashed", str(corpus), str(store))
    else:
        args = newsqa_cmd("ingest", "--json", "--seeds", str(corpus), "--store", str(store))
    child = run_child(args, env=env, timeout=4 * 3600).check(f"{vectors} ingest")
    report = child.json()
    if vectors == "hashed" and (report["model_loaded"] or report["spacy_loaded"]):
        raise RuntimeError(f"the hashed ingest loaded the model or spaCy: {report}")
    return child, report


def _warm(
    corpus: Path, store: Path, passes: int, accuracy: bool, env: Mapping[str, str] | None = None
) -> tuple[Child, dict[str, Any]]:
    """Warm queries in a child: the bench's `query` child (with accuracy) or `warm`."""
    mode = "query" if accuracy else "warm"
    child = run_child(bench_cmd(mode, str(corpus), str(store), str(passes)), env=env)
    return child, child.check(f"warm queries on {store}").json()


def cold_asks(
    stores: Mapping[str, tuple[Path, Path]], runs: int, say: Log, check_answer: set[str]
) -> tuple[dict[str, list[float]], list[float], bool]:
    """Cold `newsqa ask` per store and the bare-import baseline, interleaved run by run.

    `stores` maps a name to (articles folder, store); the answer is checked on `check_answer`.
    Returns the wall times per store, those of the import baseline, and whether answers were right.
    """
    question, alias = _cold_case()
    cold: dict[str, list[float]] = {name: [] for name in stores}
    baseline: list[float] = []
    right = True
    for i in range(runs):
        say(f"cold start: import baseline and newsqa ask ({i + 1}/{runs})")
        baseline.append(run_child(IMPORT_BASELINE).check("import baseline").seconds)
        for name, (folder, store) in stores.items():
            child = run_child(
                newsqa_cmd("ask", question, "--seeds", str(folder), "--store", str(store))
            ).check(f"newsqa ask on {name}")
            cold[name].append(child.seconds)
            if name in check_answer:
                right = right and alias in child.stdout
    return cold, baseline, right


def run_scale(
    options: ScaleOptions, work: Path, runs: Runs | None, seed: int | None, say: Log
) -> BenchResult:
    """Build (or take) the corpus, ingest it once, and measure the scale metrics."""
    from qa.settings import Settings
    from qa.tools.corpus import DEFAULT_SEED, write_corpus

    if options.vectors not in VECTORS:
        raise UserError(f"--vectors must be one of {', '.join(VECTORS)}")
    started = time.perf_counter()
    runs = runs or Runs(heavy=1, light=3)
    settings = Settings()
    seed = DEFAULT_SEED if seed is None else seed
    hashed = options.vectors == "hashed"

    if options.corpus is not None:
        corpus = options.corpus.expanduser().resolve()
        if not corpus.is_dir():
            raise UserError(f"articles folder not found: {corpus}")
        generated = 0
        say(f"using the articles in {corpus}")
    else:
        if options.articles < 1:
            raise UserError("--articles must be at least 1")
        corpus = work / "corpus"
        generated = options.articles
        say(f"writing {generated} articles + seeds to {corpus}")
        write_corpus(corpus, generated, seeds_dir=settings.seeds_dir, seed=seed)
    seeds_only = work / "seeds"
    write_corpus(seeds_only, 0, seeds_dir=settings.seeds_dir)
    # Accuracy over the seed dev set needs real vectors and a corpus that holds the seeds.
    accuracy = not hashed and options.corpus is None

    # 1. the seeds-only store (real embedder: five articles) and the big store
    seeds_store = work / "seeds-store"
    say("newsqa ingest, seeds only")
    run_child(
        newsqa_cmd("ingest", "--json", "--seeds", str(seeds_only), "--store", str(seeds_store))
    ).check("seeds ingest")
    big_store = work / "store"
    shutil.rmtree(big_store, ignore_errors=True)
    say(f"{options.vectors} ingest of {corpus}")
    ingest_child, ingest_report = _ingest(options.vectors, corpus, big_store)
    articles = ingest_report["added"]
    chunks = int(ingest_report["chunks_embedded"])
    result = BenchResult(generated, articles, chunks, runs)
    details = result.details
    label = f"{articles} articles"
    details["scale"] = {
        "vectors": options.vectors,
        "corpus": str(options.corpus) if options.corpus else None,
        "server": options.server,
    }
    details["title"] = (
        f"newsqa bench (scale, {options.vectors} vectors): {articles} articles"
        + (f" from {options.corpus}" if options.corpus else f" ({generated} generated + seeds)")
        + f", {chunks} chunks"
    )
    details["ingest"] = {**ingest_report, "wall_s": ingest_child.seconds}
    details["machine"] = {"cpus": os.cpu_count(), "cpu": _cpu_model()}
    m = result.metrics
    lt = runs.light
    kind = "hashed" if hashed else "newsqa"
    m.append(Metric(f"{kind} ingest wall time, {label}", ingest_child.seconds, "s"))
    ingest_rss_target = "" if hashed else f"≤ {INGEST_RSS_MB:.0f} (at 10k)"
    m.append(
        Metric(
            f"{kind} ingest peak RSS, {label}",
            ingest_child.peak_rss_mb,
            "MB",
            ingest_rss_target,
            None if hashed else _at_most(ingest_child.peak_rss_mb, INGEST_RSS_MB),
        )
    )
    if hashed:
        details["model_chunks_embedded"] = 0  # checked in _ingest: the model was never loaded

    # 2. no-op re-ingest: a real `newsqa ingest` on the built store (real embedder, real NER)
    noop: list[float] = []
    for i in range(lt):
        say(f"no-op re-ingest ({i + 1}/{lt})")
        child = run_child(
            newsqa_cmd("ingest", "--json", "--seeds", str(corpus), "--store", str(big_store))
        ).check("no-op ingest")
        report = child.json()
        details["noop_chunks_embedded"] = report["chunks_embedded"]
        if report["chunks_embedded"] != 0 or report["unchanged"] != articles:
            raise RuntimeError(f"re-ingest was not a no-op: {report}")
        noop.append(child.seconds)
        details["noop_ingest_inner_s"] = report["seconds"]
    noop_s = median(noop)
    m.append(
        Metric(f"no-op re-ingest, {label}", noop_s, "s", f"≤ {NOOP_S:.0f}", noop_s <= NOOP_S, lt)
    )

    # 3. status: Engine(settings).status() in a fresh process, and the `newsqa status` process
    status_s: list[float] = []
    status_proc: list[float] = []
    for i in range(lt):
        say(f"status ({i + 1}/{lt})")
        child = run_child(bench_cmd("status", str(corpus), str(big_store))).check("status")
        data = child.json()
        status_s.append(float(data["seconds"]))
        details["status"] = data
        proc = run_child(newsqa_cmd("status", "--json", "--store", str(big_store)))
        status_proc.append(proc.check("newsqa status").seconds)
    value = median(status_s)
    m.append(
        Metric(
            f"Engine.status(), {label}",
            value,
            "s",
            f"≤ {STATUS_S}",
            _at_most(value, STATUS_S),
            lt,
        )
    )
    m.append(Metric(f"newsqa status process, {label}", median(status_proc), "s", runs=lt))

    # 4. cold `newsqa ask`: seeds store, big store, and the bare imports, interleaved
    cold, baseline, right = cold_asks(
        {"seeds": (seeds_only, seeds_store), "big": (corpus, big_store)},
        lt,
        say,
        {"seeds"} | (set() if hashed or options.corpus else {"big"}),
    )
    cold_seeds, cold_big, base = median(cold["seeds"]), median(cold["big"]), median(baseline)
    note = "" if right else "wrong answer"
    m.append(Metric('python -c "import chromadb, onnxruntime"', base, "s", runs=lt))
    m.append(Metric("cold newsqa ask, seeds", cold_seeds, "s", runs=lt, note=note))
    m.append(Metric(f"cold newsqa ask, {label}", cold_big, "s", runs=lt))
    for name, ratio, bound in (
        (f"cold ask {label} ÷ seeds", cold_big / cold_seeds, COLD_VS_SEEDS),
        (f"cold ask {label} ÷ import", cold_big / base, COLD_VS_IMPORT),
    ):
        m.append(Metric(name, ratio, "×", f"≤ {bound}", _at_most(ratio, bound), lt))
    m.append(Metric("cold ask seeds ÷ import", cold_seeds / base, "×", runs=lt))
    details["cold_ask_runs"] = {**cold, "import": baseline}

    # 5. warm ask() and the query process's peak RSS, seeds and big
    warm: dict[str, dict[str, Any]] = {}
    rss: dict[str, float] = {}
    for name, folder, store in (("seeds", seeds_only, seeds_store), ("big", corpus, big_store)):
        say(f"warm ask() over the seed dev set, {name} ({lt} passes)")
        child, data = _warm(folder, store, lt, accuracy)
        warm[name], rss[name] = data, child.peak_rss_mb
    details["warm"] = warm

    def passes_median(name: str, key: str) -> float:
        return median([p[key] for p in warm[name]["passes"]])

    p50_bounds: tuple[tuple[str, str, float | None], ...] = (
        ("seeds", "seeds", None),
        ("big", label, WARM_P50_MS),
    )
    for name, lab, limit in p50_bounds:
        p50, p95 = passes_median(name, "p50_ms"), passes_median(name, "p95_ms")
        target = "" if limit is None else f"≤ {limit:.0f}"
        ok = None if limit is None else _at_most(p50, limit)
        m.append(Metric(f"warm ask p50, {lab}", p50, "ms", target, ok, lt))
        m.append(
            Metric(
                f"warm ask p95, {lab}",
                p95,
                "ms",
                f"≤ 2×p50 ({2 * p50:.0f})",
                _at_most(p95, 2 * p50),
                lt,
            )
        )
    for name, lab, bound in (("seeds", "seeds", SEEDS_RSS_MB), ("big", label, BIG_RSS_MB)):
        m.append(
            Metric(
                f"query process peak RSS, {lab}",
                rss[name],
                "MB",
                f"≤ {bound:.0f}",
                _at_most(rss[name], bound),
            )
        )
    if accuracy:
        acc_seeds = warm["seeds"]["passes"][0]["answer_accuracy"]
        acc_big = warm["big"]["passes"][0]["answer_accuracy"]
        m.append(Metric("answer accuracy, seeds", acc_seeds, ""))
        m.append(Metric(f"answer accuracy, {label}", acc_big, ""))
        drop = 100 * (acc_seeds - acc_big)
        m.append(Metric("accuracy drop", drop, "points", f"≤ {ACCURACY_DROP:.0f}", drop <= 3.0))

    # 6. server mode: ingest into a real `chroma run`, answer from a client that never ingested
    if options.server:
        _server(options, work, corpus, seed, lt, say, result)
    result.seconds = time.perf_counter() - started
    return result


def _server(
    options: ScaleOptions,
    work: Path,
    corpus: Path,
    seed: int,
    passes: int,
    say: Log,
    result: BenchResult,
) -> None:
    from qa.settings import Settings
    from qa.tools.corpus import write_corpus

    server_corpus = corpus
    if options.corpus is None and options.articles > options.server_articles:
        server_corpus = work / "server-corpus"
        say(f"writing {options.server_articles} articles + seeds for the server")
        write_corpus(
            server_corpus, options.server_articles, seeds_dir=Settings().seeds_dir, seed=seed
        )
    scratch = Path(tempfile.mkdtemp(prefix="client-", dir=work))
    try:
        with chroma_server(work / "chroma") as url:
            env = {"QA_CHROMA_URL": url}
            say(f"{options.vectors} ingest of {server_corpus} into the server at {url}")
            child, report = _ingest(options.vectors, server_corpus, scratch / "ingest", env)
            articles = report["added"]
            label = f"{articles} articles"
            # The client: its own process, empty store and articles folders, only the URL.
            (scratch / "store").mkdir()
            (scratch / "seeds").mkdir()
            say(f"server: a client that never ingested asks ({passes} passes)")
            client, data = _warm(scratch / "seeds", scratch / "store", passes, False, env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    m = result.metrics
    p50 = median([p["p50_ms"] for p in data["passes"]])
    p95 = median([p["p95_ms"] for p in data["passes"]])
    m.append(Metric(f"server: ingest wall time, {label}", child.seconds, "s"))
    m.append(
        Metric(
            f"server: second client warm ask p50, {label}",
            p50,
            "ms",
            f"≤ {SERVER_P50_MS:.0f} (at 10k)",
            _at_most(p50, SERVER_P50_MS),
            passes,
        )
    )
    m.append(Metric(f"server: second client warm ask p95, {label}", p95, "ms", runs=passes))
    m.append(Metric(f"server: client peak RSS, {label}", client.peak_rss_mb, "MB"))
    result.details["server"] = {
        "articles": articles,
        "chunks": report["chunks_embedded"],
        "ingest": report,
        "client": data,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"
