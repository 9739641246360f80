"""Opening costs nothing that grows with the corpus: an engine reads only the chunks a question
retrieves, `status` reads none, and an old store gets its lexical index without re-embedding."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_seeds

import qa.engine
from qa.engine import Engine
from qa.lexical.postings import INDEX_FILE
from qa.settings import Settings
from qa.store import Store
from qa.store_state import STATE_FILE

AZERBAIJAN = "Who is the Prosecutor General of Azerbaijan?"


class CountingCollection:
    """A real Chroma collection that counts the rows each read returns."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self.rows_read = 0
        self.reads: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        got = self._collection.get(*args, **kwargs)
        if kwargs.get("include") != []:
            self.rows_read += len(got["ids"])
        self.reads.append(f"get {len(got['ids'])}")
        return got

    def count(self) -> int:
        self.reads.append("count")  # a local Chroma loads its whole vector index to count
        return int(self._collection.count())

    def query(self, *args: Any, **kwargs: Any) -> Any:
        got = self._collection.query(*args, **kwargs)
        self.rows_read += sum(len(ids) for ids in got["ids"])
        self.reads.append(f"query {sum(len(ids) for ids in got['ids'])}")
        return got


@pytest.fixture
def counted(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Engine, list[CountingCollection]]]:
    """A fresh engine on the seeded store whose collections count what they return."""
    opened: list[CountingCollection] = []
    real_open = qa.engine.open_store

    def open_counting(settings: Settings, **kwargs: Any) -> Store:
        store = real_open(settings, **kwargs)
        store.collection = CountingCollection(store.collection)
        opened.append(store.collection)
        return store

    monkeypatch.setattr(qa.engine, "open_store", open_counting)
    monkeypatch.setattr(Store, "rows", _no_scan)
    yield Engine(seeded.settings), opened


def _no_scan(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("read every row")


def test_opening_and_warming_up_read_no_rows(
    counted: tuple[Engine, list[CountingCollection]],
) -> None:
    engine, opened = counted
    engine.warm_up()
    info = engine.status()
    assert (info["articles"], info["chunks"], info["complete"]) == (5, 19, True)
    assert sum(c.rows_read for c in opened) == 0


def test_a_question_reads_only_the_chunks_it_retrieves(
    counted: tuple[Engine, list[CountingCollection]],
) -> None:
    engine, opened = counted
    answer = engine.ask(AZERBAIJAN)
    assert answer.found and "Kamran Aliyev" in answer.text
    pool = max(2 * engine.settings.top_k, 16)
    # the dense query returns `pool` rows of 19; the lexical side adds at most top_k more
    assert sum(c.rows_read for c in opened) <= min(19, pool) + engine.settings.top_k
    assert "count" not in [read for c in opened for read in c.reads]


def test_an_old_store_gets_its_lexical_index_from_its_rows(seeded: Engine, tmp_path: Path) -> None:
    store_dir = tmp_path / "old-store"
    shutil.copytree(seeded.settings.store_dir, store_dir, ignore=shutil.ignore_patterns("*.lock"))
    for suffix in ("", "-wal", "-shm"):  # as a store made before the index existed
        (store_dir / (INDEX_FILE + suffix)).unlink(missing_ok=True)
    (store_dir / STATE_FILE).unlink()
    seeds = copy_seeds(tmp_path / "seeds")
    (seeds / sorted(p.name for p in seeds.iterdir())[0]).unlink()  # the folder is not read
    engine = Engine(seeded.settings.with_overrides(store=store_dir, seeds=seeds))
    answer = engine.ask("Who is Bulbuloglu?")
    assert answer.found and "Bulbuloglu" in answer.text
    with sqlite3.connect(store_dir / INDEX_FILE) as db:
        assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == 19
    info = engine.status()
    assert (info["articles"], info["chunks"], info["complete"]) == (5, 19, True)
    report = engine.ingest()  # a real ingest then sees the deleted article go
    assert (report.removed, report.chunks_embedded) == (1, 0)
