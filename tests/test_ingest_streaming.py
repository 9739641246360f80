"""Ingest streams the folder in bounded batches (read → chunk → tag → embed → write): the same
store as one pass, progress that only moves forward, a rollback that undoes every batch, and a
peak memory that does not grow with the number of articles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, copy_seeds

import qa.ingestion as ingest_module
from qa.engine import Engine
from qa.errors import UserError
from qa.settings import Settings
from qa.tools.bench import bench_cmd, run_child
from qa.tools.corpus import generate_texts, write_corpus
from qa.tools.hashed import HashedEmbedding, no_entities


def hashed_engine(seeds: Path, store: Path) -> Engine:
    settings = Settings().with_overrides(seeds=seeds, store=store)
    return Engine(settings, embedder=HashedEmbedding(), tagger=no_entities)


def folder(dest: Path, extra: int) -> Path:
    seeds = copy_seeds(dest)
    for name, text in generate_texts(extra, seed=11):
        (seeds / name).write_text(text, encoding="utf-8")
    return seeds


def chunk_ids(engine: Engine) -> list[str]:
    return sorted(row_id for row_id, _, _ in engine.store.rows(include=[]))


def test_batches_give_the_store_of_one_pass_and_progress_only_moves_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = folder(tmp_path / "seeds", 9)
    one_pass = hashed_engine(seeds, tmp_path / "one")
    one_pass.ingest()

    monkeypatch.setattr(ingest_module, "_BATCH_FILES", 3)
    monkeypatch.setattr(ingest_module, "_EMBED_GROUP", 4)
    calls: list[tuple[str, int, int]] = []
    engine = hashed_engine(seeds, tmp_path / "batched")
    report = engine.ingest(progress=lambda *call: calls.append(call))
    assert (report.added, report.unchanged, report.chunks_embedded) == (
        14,
        0,
        one_pass.status()["chunks"],
    )
    assert chunk_ids(engine) == chunk_ids(one_pass)
    phases = [phase for phase, _, _ in calls]
    assert list(dict.fromkeys(phases)) == ["reading", "chunking", "tagging", "embedding", "writing"]
    assert phases.count("chunking") >= 2 * 5  # five batches, each chunked after it was read
    last: dict[str, tuple[int, int]] = {}
    for phase, done, total in calls:
        assert 0 <= done <= total
        before = last.get(phase, (0, 0))
        assert done >= before[0] and total >= before[1]  # running totals never go back
        last[phase] = (done, total)
    assert last["reading"] == (14, 14) and last["chunking"] == (14, 14)
    assert last["tagging"] == (14, 14)
    assert last["writing"] == last["embedding"] == (report.chunks_embedded,) * 2
    assert calls[-1][0] == "writing"


def test_a_write_error_in_a_later_batch_undoes_every_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    engine = hashed_engine(seeds, tmp_path / "store")
    engine.ingest()
    before = chunk_ids(engine)
    seed_names = sorted(p.name for p in seeds.iterdir())
    for name, text in generate_texts(8, seed=5):
        (seeds / name).write_text(text, encoding="utf-8")
    (seeds / "004_cdb1a34271dd60b2.txt").unlink()

    monkeypatch.setattr(ingest_module, "_BATCH_FILES", 3)
    real_write, calls = ingest_module._write, []

    def fail_in_the_third_batch(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(*args)

    monkeypatch.setattr(ingest_module, "_write", fail_in_the_third_batch)
    with pytest.raises(UserError, match="No space left on device; nothing changed$"):
        engine.ingest()
    assert chunk_ids(engine) == before
    index = engine.store.postings  # the seeds' records only (the new files' went with their chunks)
    assert index is not None and set(index.file_records()) == set(seed_names)
    info = engine.status()
    assert info["complete"] is True and info["articles"] == 5

    monkeypatch.setattr(ingest_module, "_write", real_write)
    again = engine.ingest()
    assert (again.added, again.removed, again.unchanged) == (8, 1, 4)


def peak_rss_of_ingest(tmp_path: Path, articles: int) -> tuple[float, dict[str, Any]]:
    corpus = tmp_path / f"corpus-{articles}"
    write_corpus(corpus, articles)
    child = run_child(
        bench_cmd("ingest-hashed", str(corpus), str(tmp_path / f"store-{articles}")), cwd=PROJECT
    ).check("hashed ingest")
    return child.peak_rss_mb, child.json()


def test_ingest_peak_memory_does_not_grow_with_the_articles(tmp_path: Path) -> None:
    small, small_report = peak_rss_of_ingest(tmp_path, 300)
    large, large_report = peak_rss_of_ingest(tmp_path, 1500)
    assert (small_report["added"], large_report["added"]) == (305, 1505)
    assert small > 0 and large <= 1.25 * small + 30, (small, large)
