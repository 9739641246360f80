"""`newsqa bench` smoke test, and the generated corpus: deterministic, parseable, seed-safe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT, SEEDS

from qa.articles import load_articles, parse_article
from qa.tools.corpus import FORBIDDEN, check_text, generate_texts, write_corpus

EXPECTED_METRICS = {
    "raw embedder throughput",
    "newsqa ingest throughput",
    "ingest / raw embedder",
    "newsqa ingest time",
    "naive llama-index ingest time",
    "naive / newsqa ingest time",
    "no-op re-ingest (process)",
    "warm ask p50, seeds",
    "warm ask p95, seeds",
    "answer accuracy, seeds",
    "accuracy drop",
    "cold newsqa ask, seeds",
    "TUI time until answers can start",
    "peak RSS, ingest process",
    "peak RSS, warm query process, seeds",
}
N = 60


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_corpus_is_deterministic_and_mixes_in_the_seeds(tmp_path: Path) -> None:
    first = write_corpus(tmp_path / "a", 40, seeds_dir=SEEDS, seed=7)
    second = write_corpus(tmp_path / "b", 40, seeds_dir=SEEDS, seed=7)
    other = write_corpus(tmp_path / "c", 40, seeds_dir=SEEDS, seed=8)
    assert first == second == other == 45
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b  # same seed: same names, same bytes
    generated = {k: v for k, v in a.items() if k.startswith("n")}
    assert len(generated) == 40 and len(set(generated.values())) == 40
    assert set(generated) != {k for k in c if k.startswith("n")}
    for seed_file in SEEDS.glob("*.txt"):  # the needles, byte for byte, same names
        assert a[seed_file.name] == seed_file.read_bytes()
    # rewriting a folder replaces the old articles instead of accumulating them
    assert write_corpus(tmp_path / "a", 10, seeds_dir=SEEDS, seed=7) == 15
    assert len(list((tmp_path / "a").iterdir())) == 15


def test_generated_articles_parse_in_every_header_style() -> None:
    texts = generate_texts(400, seed=11)
    styles = {"by": 0, "dateline": 0, "agency-by": 0, "headline": 0, "bare": 0}
    for name, text in texts:
        article = parse_article(name, text)
        words = len(article.body.split())
        assert 100 <= words <= 200, (name, words)
        first = text.splitlines()[0]
        if first.startswith(" date "):
            assert article.date is not None and article.date == first.split()[1]
            if "\n\n\n\nBy " in text:
                styles["agency-by"] += 1
                assert article.author and article.agency and not article.body.startswith("By ")
            elif first.split()[2] == "By":
                styles["by"] += 1
                assert article.author == " ".join(first.split()[3:])
            else:
                styles["dateline"] += 1
                assert article.place and article.agency and article.author is None
                assert first.split(",")[0].strip().endswith(article.place)
        elif text.count("\n\n") and not first.endswith("."):
            styles["headline"] += 1
            assert article.date is None and article.title == first
            assert not article.body.startswith(first)
        else:
            styles["bare"] += 1
            assert article.date is None and article.body_start == 0
    assert all(count >= 15 for count in styles.values()), styles


def test_haystack_never_mentions_the_seed_people_places_or_roles() -> None:
    seed_names = ["Kamran Aliyev", "Igor Krasnov", "Artur Davtyan", "Zakir Hasanov"]
    assert all(name.split()[1] in FORBIDDEN for name in seed_names)
    for _, text in generate_texts(1000, seed=3):
        check_text(text)  # raises on any forbidden word
        low = text.lower()
        assert "prosecutor" not in low and "azerbaijan" not in low and "world cup" not in low
    with pytest.raises(ValueError, match="Krasnov"):
        check_text("A meeting with Igor Krasnov.")


def test_bench_smoke_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    out = subprocess.run(
        [sys.executable, "-m", "qa", "bench", "--articles", str(N), "--json"]
        + ["--runs", "1", "--heavy-runs", "1", "--workdir", str(tmp_path / "work")],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout)
    assert data["articles"] == N and data["corpus_articles"] == N + 5
    loaded = load_articles(tmp_path / "work" / "corpus")
    assert len(loaded.articles) == N + 5 and not loaded.skipped
    assert data["chunks"] >= N + 5
    metrics = data["metrics"]
    names = set(metrics)
    assert EXPECTED_METRICS <= names
    big = f"{N + 5} articles"
    for suffix in ("warm ask p50", "warm ask p95", "answer accuracy", "cold newsqa ask"):
        assert f"{suffix}, {big}" in names
    assert f"TUI time-to-ready, {big}" in names
    assert f"peak RSS, warm query process, {big}" in names
    for name, metric in metrics.items():
        value = metric["value"]
        assert isinstance(value, (int, float)), (name, metric)
        if name.startswith("answer accuracy"):
            assert 0.0 <= value <= 1.0, (name, value)
        elif name == "accuracy drop":
            assert -100.0 <= value <= 100.0
        else:
            assert value > 0, (name, value)
        if metric["target"]:
            assert isinstance(metric["ok"], bool), name
    assert metrics["answer accuracy, seeds"]["value"] >= 0.5
    assert 1 <= metrics["peak RSS, ingest process"]["value"] < 4000
    assert metrics[f"TUI time-to-ready, {big}"]["value"] < 60
    # the table agrees with the JSON
    ours, raw = (metrics[f"{k} throughput"]["value"] for k in ("newsqa ingest", "raw embedder"))
    ratio = ours / raw
    assert abs(metrics["ingest / raw embedder"]["value"] - ratio) < 1e-6
    assert data["all_ok"] == all(m["ok"] is not False for m in metrics.values())


# ---- the scale mode: `newsqa bench --vectors hashed` ------------------------------------------

SCALE_N = 30


def _scale_metrics(big: str) -> set[str]:
    return {
        f"hashed ingest wall time, {big}",
        f"hashed ingest peak RSS, {big}",
        f"no-op re-ingest, {big}",
        f"Engine.status(), {big}",
        f"newsqa status process, {big}",
        'python -c "import chromadb, onnxruntime"',
        "cold newsqa ask, seeds",
        f"cold newsqa ask, {big}",
        f"cold ask {big} ÷ seeds",
        f"cold ask {big} ÷ import",
        "cold ask seeds ÷ import",
        "warm ask p50, seeds",
        "warm ask p95, seeds",
        f"warm ask p50, {big}",
        f"warm ask p95, {big}",
        "query process peak RSS, seeds",
        f"query process peak RSS, {big}",
        f"server: ingest wall time, {big}",
        f"server: second client warm ask p50, {big}",
        f"server: second client warm ask p95, {big}",
        f"server: client peak RSS, {big}",
    }


def test_hashed_embedding_is_deterministic_and_normalised() -> None:
    import numpy as np

    from qa.tools.hashed import DIMENSIONS, HashedEmbedding, no_entities

    texts = ["Kamran Aliyev met the delegation.", "Another text.", "", "é \udcff lone surrogate"]
    first, again = HashedEmbedding(), HashedEmbedding()
    a = first.embed(texts)
    assert a.shape == (len(texts), DIMENSIONS) == (4, 384) and a.dtype == np.float32
    assert np.array_equal(a, again.embed(texts))  # a function of the text alone
    assert np.array_equal(a[1], first.embed(["Another text."])[0])  # whatever the batch
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert len({row.tobytes() for row in a}) == len(texts)  # different texts, different rows
    assert abs(float(a[0] @ a[1])) < 0.5  # near-orthogonal, as random unit vectors are
    assert first.texts_embedded == len(texts) + 1
    assert first.embed([]).shape == (0, DIMENSIONS)
    assert no_entities(["a", "b"]) == [[], []]


def test_bench_scale_hashed_json(tmp_path: Path) -> None:
    """The scale mode end to end on a tiny corpus: real processes, real Chroma, a real server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    work = tmp_path / "work"
    out = subprocess.run(
        [sys.executable, "-m", "qa", "bench", "--articles", str(SCALE_N), "--vectors", "hashed"]
        + ["--runs", "1", "--json", "--workdir", str(work)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout)
    articles = SCALE_N + 5
    big = f"{articles} articles"
    assert data["articles"] == SCALE_N and data["corpus_articles"] == articles
    details = data["details"]
    assert details["scale"] == {"vectors": "hashed", "corpus": None, "server": True}
    # the hashed ingest: every chunk got a pseudo-vector, the model and spaCy were never loaded
    ingest = details["ingest"]
    assert ingest["added"] == articles and ingest["chunks_embedded"] == data["chunks"]
    assert ingest["hashed_texts"] == data["chunks"] >= articles
    assert ingest["model_loaded"] is False and ingest["spacy_loaded"] is False
    assert details["model_chunks_embedded"] == 0
    # the real `newsqa ingest` on the built store embedded nothing
    assert details["noop_chunks_embedded"] == 0
    status = details["status"]
    assert (status["articles"], status["chunks"], status["complete"]) == (
        articles,
        data["chunks"],
        True,
    )
    # warm queries: the whole seed dev set asked, on the seeds and on the hashed store
    for name in ("seeds", "big"):
        warm = details["warm"][name]
        assert warm["n"] >= 50 and len(warm["passes"]) == 1
    assert details["warm"]["big"]["chunks"] == data["chunks"]
    assert details["warm"]["seeds"]["found"] > 0
    # server mode: a separate client with empty folders sees every row the server holds
    server = details["server"]
    assert server["articles"] == articles and server["chunks"] == data["chunks"]
    assert server["ingest"]["model_loaded"] is False
    assert server["client"]["chunks"] == data["chunks"] and server["client"]["n"] >= 50
    assert server["client"]["found"] > 0
    assert len(details["cold_ask_runs"]["import"]) == 1
    # every scale metric is there with a number, and no accuracy on hashed vectors
    metrics = data["metrics"]
    assert _scale_metrics(big) <= set(metrics), _scale_metrics(big) - set(metrics)
    assert not any("accuracy" in name for name in metrics)
    for name, metric in metrics.items():
        assert isinstance(metric["value"], (int, float)) and metric["value"] > 0, (name, metric)
        if metric["target"]:
            assert isinstance(metric["ok"], bool), name
    cold = metrics[f"cold newsqa ask, {big}"]["value"]
    ratio = metrics[f"cold ask {big} ÷ seeds"]["value"]
    assert abs(ratio - cold / metrics["cold newsqa ask, seeds"]["value"]) < 1e-9
    assert data["all_ok"] == all(m["ok"] is not False for m in metrics.values())
    # the table renders every metric with its number
    saved = tmp_path / "scale.json"
    saved.write_text(out.stdout, encoding="utf-8")
    table = subprocess.run(
        [sys.executable, "-m", "qa.tools.bench", "table", str(saved)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert table.returncode == 0, table.stderr
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.stdout.splitlines()}
    assert table.stdout.startswith("newsqa bench (scale, hashed vectors): 35 articles")
    for name in metrics:
        assert name in rows and any(c.isdigit() for c in rows[name].split(" | ")[1]), name


def test_bench_scale_refuses_bad_arguments(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    for args, message in (
        (["--corpus", str(tmp_path / "nowhere"), "--vectors", "hashed"], "not found"),
        (["--corpus", str(tmp_path), "--articles", "5"], "--articles does not apply"),
        (["--vectors", "hashed", "--server-articles", "0"], "at least 1"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "qa", "bench", *args, "--workdir", str(tmp_path / "w")],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert out.returncode == 2 and "newsqa: error:" in out.stderr and message in out.stderr
        assert "Traceback" not in out.stderr
