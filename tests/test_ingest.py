"""Idempotent, incremental, crash-safe ingest into a real Chroma store with the real embedder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT, copy_seeds

import qa.ingestion as ingest_module
from qa.engine import Engine
from qa.settings import Settings


def _engine(tmp_path: Path) -> Engine:
    seeds = tmp_path / "seeds"
    if not seeds.exists():
        copy_seeds(seeds)
    return Engine(Settings().with_overrides(seeds=seeds, store=tmp_path / "store"))


def _chunk_ids(engine: Engine) -> list[str]:
    return sorted(row_id for row_id, _, _ in engine.store.rows(include=[]))


def test_first_ingest_then_noop(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    first = engine.ingest()
    assert (first.added, first.updated, first.removed, first.unchanged) == (5, 0, 0, 0)
    assert first.chunks_embedded == engine.store.count() > 5
    ids = _chunk_ids(engine)
    second = engine.ingest()
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 5)
    assert second.chunks_embedded == 0 and second.chunks_deleted == 0
    assert _chunk_ids(engine) == ids


def test_add_edit_delete(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    engine.ingest()
    seeds = tmp_path / "seeds"
    before = engine.store.count()
    (seeds / "005_new.txt").write_text(
        " date 2022-03-01 By Test Writer\n\nThe mayor of Ganja, Niyazi Bayramov, opened a bridge.",
        encoding="utf-8",
    )
    added = engine.ingest()
    assert (added.added, added.unchanged, added.chunks_embedded) == (1, 5, 1)
    assert engine.store.count() == before + 1

    edited = seeds / "003_c9b81f4206560cc0.txt"
    edited.write_text(
        edited.read_text(encoding="utf-8") + "\nA new closing sentence.\n", encoding="utf-8"
    )
    old_003 = [
        m for _, m, _ in engine.store.rows(include=["metadatas"]) if m["file"] == edited.name
    ]
    updated = engine.ingest()
    assert (updated.updated, updated.unchanged) == (1, 5)
    assert updated.chunks_embedded >= 1 and updated.chunks_deleted == len(old_003)
    new_003 = [
        m for _, m, _ in engine.store.rows(include=["metadatas"]) if m["file"] == edited.name
    ]
    assert {m["content_hash"] for m in new_003} != {m["content_hash"] for m in old_003}
    assert len({m["content_hash"] for m in new_003}) == 1

    (seeds / "005_new.txt").unlink()
    removed = engine.ingest()
    assert (removed.removed, removed.chunks_embedded, removed.chunks_deleted) == (1, 0, 1)
    files = {m["file"] for _, m, _ in engine.store.rows(include=["metadatas"])}
    assert "005_new.txt" not in files and len(files) == 5


def test_interrupted_ingest_converges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _engine(tmp_path / "ref")
    reference.ingest()
    expected = _chunk_ids(reference)

    engine = _engine(tmp_path / "crash")
    monkeypatch.setattr(ingest_module, "_EMBED_GROUP", 4)
    real_write = ingest_module._write
    calls = {"n": 0}

    def write_then_interrupt(*args: object) -> None:
        real_write(*args)  # type: ignore[arg-type]
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(ingest_module, "_write", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        engine.ingest()
    assert engine.store.count() == 8  # two groups of four landed
    monkeypatch.setattr(ingest_module, "_write", real_write)
    resumed = engine.ingest()
    assert resumed.chunks_embedded == len(expected) - 8  # only the missing chunks are embedded
    assert _chunk_ids(engine) == expected
    assert engine.ingest().chunks_embedded == 0


def test_rebuild_reembeds_everything(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    first = engine.ingest()
    rebuilt = engine.ingest(rebuild=True)
    assert rebuilt.added == 5 and rebuilt.chunks_embedded == first.chunks_embedded


def test_reopened_store_in_new_process_answers_without_reembedding(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    engine.ingest()
    env = {
        **os.environ,
        "QA_STORE_DIR": str(tmp_path / "store"),
        "QA_SEEDS_DIR": str(tmp_path / "seeds"),
    }
    code = (
        "import json, qa, qa.ingestion as m\n"
        "calls = []\n"
        "real = m._write\n"
        "m._write = lambda *a: (calls.append(1), real(*a))\n"
        "a = qa.ask('Who is the Prosecutor General of Azerbaijan?')\n"
        "print(json.dumps({'calls': len(calls), 'text': a.text, 'found': a.found}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["calls"] == 0 and result["found"] is True
    assert "Kamran Aliyev" in result["text"]
