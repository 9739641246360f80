"""A re-ingest reads only the article files that changed since they were last read (their stat
against the record in the lexical index), and a record never makes a changed file look
unchanged."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import PROJECT, copy_seeds

from qa.engine import Engine
from qa.file_records import RACY_NS, FileRecord, FileStat, unchanged
from qa.lexical.postings import INDEX_FILE, SCHEMA_VERSION, IndexedChunk, PostingsIndex
from qa.lexical.sync import reconcile
from qa.settings import Settings
from qa.tools.hashed import HashedEmbedding, no_entities

HOUR_NS = 3600 * 10**9

# A child that ingests, then watches every file opened under the articles folder (Python's
# audit hook sees each open(), os.open() and io.open()) through the steps given on stdin:
# "ingest" or "touch NAME" or "edit NAME" (same size, mtime put back).
CHILD = r"""
import json, os, sys
from pathlib import Path
from qa.engine import Engine
from qa.settings import Settings

seeds = Path(sys.argv[1]).resolve()
engine = Engine(Settings().with_overrides(seeds=seeds, store=sys.argv[2]))
engine.ingest()
opened = []

def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(str(seeds) + os.sep):
            opened.append(os.path.relpath(path, seeds))

sys.addaudithook(hook)
for line in sys.stdin:
    step, _, name = line.strip().partition(" ")
    if step == "touch":
        os.utime(seeds / name)
    elif step == "edit":
        path = seeds / name
        info = path.stat()
        data = path.read_bytes()
        at = data.index(b"the ")
        path.write_bytes(data[:at] + b"tha " + data[at + 4 :])
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        opened.clear()
    else:
        opened.clear()
        report = engine.ingest().to_dict()
        print(json.dumps({"report": report, "opened": sorted(opened)}), flush=True)
"""


def backdated_seeds(dest: Path) -> Path:
    """The seeds, last modified an hour ago (as a corpus is, well before it is ingested)."""
    seeds = copy_seeds(dest)
    old = time.time_ns() - HOUR_NS
    for path in seeds.iterdir():
        os.utime(path, ns=(old, old))
    return seeds


def counts(report: dict[str, object]) -> tuple[object, ...]:
    keys = ("added", "updated", "removed", "unchanged", "chunks_embedded", "chunks_deleted")
    return tuple(report[k] for k in keys)


def test_unchanged_files_are_not_opened_and_changed_ones_are_read(tmp_path: Path) -> None:
    seeds = backdated_seeds(tmp_path / "seeds")
    name = sorted(p.name for p in seeds.iterdir())[2]
    steps = ["ingest", f"edit {name}", "ingest", "ingest", f"touch {name}", "ingest", "ingest"]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(seeds), str(tmp_path / "store")],
        input="\n".join(steps) + "\n",
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    noop, edited, after, touched, racy = [json.loads(line) for line in out.stdout.splitlines()]
    assert noop["opened"] == [] and counts(noop["report"]) == (0, 0, 0, 5, 0, 0)
    # an edit that keeps the size and puts the mtime back still changes the ctime
    assert edited["opened"] == [name]
    assert counts(edited["report"])[:4] == (0, 1, 0, 4) and edited["report"]["chunks_embedded"]
    assert after["opened"] == [] and counts(after["report"]) == (0, 0, 0, 5, 0, 0)
    # a new mtime, the same bytes: read again, unchanged, nothing embedded
    assert touched["opened"] == [name] and counts(touched["report"]) == (0, 0, 0, 5, 0, 0)
    # it was read within seconds of that mtime (a later write could share its timestamp tick):
    # read once more, to be sure
    assert racy["opened"] == [name] and counts(racy["report"]) == (0, 0, 0, 5, 0, 0)


def test_a_record_stands_only_for_the_stat_it_was_read_with() -> None:
    now = time.time_ns()
    then = FileStat(100, now - HOUR_NS, now - HOUR_NS, inode=7, checked_ns=now)
    record = FileRecord("a.txt", then, "hash", None)
    assert unchanged(record, then._replace(checked_ns=now + HOUR_NS))
    for changed in (
        then._replace(size=101),
        then._replace(mtime_ns=then.mtime_ns + 1),
        then._replace(ctime_ns=then.ctime_ns + 1),  # mtime put back after an edit
        then._replace(inode=8),  # replaced by another file
    ):
        assert not unchanged(record, changed)
    assert not unchanged(record, None) and not unchanged(None, then)
    racy = then._replace(mtime_ns=now - RACY_NS // 2)  # modified just before it was read
    assert not unchanged(FileRecord("a.txt", racy, "hash", None), racy)


def _chunk(chunk_id: str, file: str, content_hash: str) -> IndexedChunk:
    return IndexedChunk(chunk_id, f"text of {chunk_id} about harbours", file, content_hash, 1, None)


def test_records_go_with_their_version_and_need_every_chunk(tmp_path: Path) -> None:
    index = PostingsIndex(tmp_path / INDEX_FILE)
    stat = FileStat(10, 1, 1, 1, 1)
    index.add([_chunk("a1", "a.txt", "A"), _chunk("b1", "b.txt", "B")])
    index.record_files(
        [FileRecord("a.txt", stat, "A", None), FileRecord("b.txt", stat, "B", "a warning")]
    )
    assert set(index.file_records()) == {"a.txt", "b.txt"}
    assert index.file_records()["b.txt"] == (FileRecord("b.txt", stat, "B", "a warning"), False)
    index.add([_chunk("a2", "a.txt", "A2")])  # a new version written, the old not yet deleted
    index.record_files([FileRecord("a.txt", stat, "A2", None)])
    assert index.file_records()["a.txt"] == (FileRecord("a.txt", stat, "A2", None), True)
    index.delete(["a1"])  # the old version's chunks: the record of the new one stays
    assert index.file_records()["a.txt"][1] is False
    index.delete(["b1"])  # the chunks of the recorded version: its record goes
    assert set(index.file_records()) == {"a.txt"}
    index.record_files([FileRecord("c.txt", stat, "C", None)])  # no chunks: not trusted
    assert set(index.file_records()) == {"a.txt"}
    index.close()


def test_an_index_of_version_1_gets_the_files_table(tmp_path: Path) -> None:
    path = tmp_path / INDEX_FILE
    PostingsIndex(path).close()
    with sqlite3.connect(path) as db:  # what newsqa wrote before the files table existed
        db.execute("DROP TABLE files")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'version'")
    index = PostingsIndex(path)
    index.add([_chunk("a1", "a.txt", "A")])
    index.record_files([FileRecord("a.txt", FileStat(1, 1, 1, 1, 1), "A", None)])
    assert set(index.file_records()) == {"a.txt"}
    index.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == (
            SCHEMA_VERSION,
        )


def test_reconcile_drops_every_record(tmp_path: Path) -> None:
    seeds = backdated_seeds(tmp_path / "seeds")
    settings = Settings().with_overrides(seeds=seeds, store=tmp_path / "store")
    engine = Engine(settings, embedder=HashedEmbedding(), tagger=no_entities)
    engine.ingest()
    index = engine.store.postings
    assert index is not None and len(index.file_records()) == 5
    assert reconcile(engine.store, index) == (0, 0)
    assert index.file_records() == {}
    again = engine.ingest()  # reads every file once more, embeds nothing, records them again
    assert (again.unchanged, again.chunks_embedded) == (5, 0)
    index = engine.store.postings  # (ingest reopened the store)
    assert index is not None and len(index.file_records()) == 5
