"""A persistent BM25 index in SQLite beside a folder store: impact-ordered postings.

Each posting holds a chunk's BM25 term weight without the IDF (its "impact"), and the postings
of a term are kept best impact first, so a query reads at most `TOP_PER_TERM` rows per term
whatever the corpus size: exact for any term in fewer chunks than that, and for commoner terms
(whose IDF is low) the chunks where they weigh most. The IDF comes from the term's document
frequency at query time. The length normalisation uses an average chunk length fixed when the
index is created, so stored impacts never need rewriting as articles come and go.

The same file is ingest's manifest (which chunks of which file version are stored), so a no-op
ingest reads it instead of every row of Chroma, and holds ingest's record of each article file it
read (`qa.file_records`), so a no-op ingest reads no article either. A record is written only once
the file's chunks are, and goes when the chunks of its version go. Every write is one
transaction; WAL mode lets query processes read while an ingest writes.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qa.file_records import FileRecord, FileStat
from qa.filters import Filters
from qa.text import terms

INDEX_FILE = "newsqa-lexical.sqlite3"
SCHEMA_VERSION = "2"  # 2: the files table (an index of version 1 gets it when opened)
K1, B = 1.2, 0.75
TOP_PER_TERM = 1000  # postings read per query term, best impact first
_SCALE = 10_000  # impacts are stored as integers (exact, compact, deterministic)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS terms (
    id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    file TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    date_int INTEGER,
    length INTEGER NOT NULL,
    postings BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks (file);
CREATE TABLE IF NOT EXISTS postings (
    term INTEGER NOT NULL, impact INTEGER NOT NULL, chunk INTEGER NOT NULL,
    PRIMARY KEY (term, impact DESC, chunk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (
    file TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    checked_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    warning TEXT) WITHOUT ROWID;
"""
# Records whose version is stored in full: (record fields…, chunks of other versions).
_COMPLETE_RECORDS = """
SELECT f.file, f.size, f.mtime_ns, f.ctime_ns, f.inode, f.checked_ns, f.content_hash, f.warning,
       SUM(c.content_hash = f.content_hash) AS have,
       MIN(CASE WHEN c.content_hash = f.content_hash THEN c.n_chunks END) AS low,
       MAX(CASE WHEN c.content_hash = f.content_hash THEN c.n_chunks END) AS high,
       SUM(c.content_hash != f.content_hash) AS others
FROM files f JOIN chunks c ON c.file = f.file
GROUP BY f.file
HAVING have > 0 AND have = low AND low = high
"""


@dataclass(frozen=True)
class IndexedChunk:
    """One chunk as the index stores it (the manifest fields and the text to index)."""

    chunk_id: str
    text: str
    file: str
    content_hash: str
    n_chunks: int
    date_int: int | None


def term_counts(text: str) -> Counter[str]:
    return Counter(terms(text))


class PostingsIndex:
    """The index file of one folder store; thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=60
        )
        self._idf_cache: dict[str, tuple[int, float]] = {}
        self._term_ids: dict[str, int] = {}  # ingest's cache of term ids (cleared by deletes)
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: safe against a killed process
            version = self._version()
            if version != SCHEMA_VERSION:  # a new file, or an older one to upgrade
                try:
                    self._create()
                except sqlite3.OperationalError:
                    if version is None:
                        raise
                    # An older index that cannot be written (a read-only store): searchable as
                    # it is; ingest, which needs write access anyway, upgrades it.

    def _version(self) -> str | None:
        try:
            return self._meta("version")
        except sqlite3.OperationalError:  # no such table: a new, empty file
            return None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: committed if the block ends, rolled back if it raises."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _create(self) -> None:
        """Create the tables that are missing and set the version, in one transaction."""
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._transaction():
            if self._version() != SCHEMA_VERSION:  # (another process may have done it meanwhile)
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('chunks', '0')")
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('version', ?)", (SCHEMA_VERSION,)
                )

    # ---- reading ------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def size(self) -> int:
        """Chunks in the index."""
        with self._lock:
            return int(self._meta("chunks") or 0)

    @property
    def synced(self) -> int | None:
        """The store generation the index was last brought in line with (None: never)."""
        with self._lock:
            value = self._meta("synced")
            return int(value) if value is not None else None

    def _df(self, term: str) -> tuple[int, int]:
        row = self._db.execute("SELECT id, df FROM terms WHERE term = ?", (term,)).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def _idf_of(self, df: int, size: int) -> float:
        return math.log(1 + (size - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        with self._lock:
            size = self.size
            cached = self._idf_cache.get(term)
            if cached is None or cached[0] != size:
                _, df = self._df(term)
                cached = self._idf_cache[term] = (size, self._idf_of(max(df, 1), size))
            return cached[1]

    def known(self, term: str) -> bool:
        with self._lock:
            return self._df(term)[1] > 0

    def search(self, query: str, k: int, filters: Filters) -> list[tuple[str, float]]:
        with self._lock:
            size = self.size
            if not size or k <= 0:
                return []
            if filters.files is not None:
                return self._search_files(query, k, filters, size)
            where, params = _filter_sql(filters)
            parts: list[str] = []
            args: list[object] = []
            for term in sorted(set(terms(query))):  # a fixed order: float sums that never vary
                term_id, df = self._df(term)
                if not df:
                    continue
                if where:
                    parts.append(
                        "SELECT * FROM (SELECT p.chunk AS chunk, p.impact * ? AS w FROM postings p "
                        f"CROSS JOIN chunks c ON c.id = p.chunk WHERE p.term = ? AND {where} "
                        "ORDER BY p.impact DESC LIMIT ?)"
                    )
                    args.extend((self._idf_of(df, size) / _SCALE, term_id, *params, TOP_PER_TERM))
                else:
                    parts.append(
                        "SELECT * FROM (SELECT chunk, impact * ? AS w FROM postings "
                        "WHERE term = ? ORDER BY impact DESC LIMIT ?)"
                    )
                    args.extend((self._idf_of(df, size) / _SCALE, term_id, TOP_PER_TERM))
            if not parts:
                return []
            rows = self._db.execute(
                "SELECT chunk, SUM(w) AS score FROM (" + " UNION ALL ".join(parts) + ") "
                "GROUP BY chunk ORDER BY score DESC, chunk LIMIT ?",
                (*args, k),
            ).fetchall()
            ids = self._chunk_ids([int(r[0]) for r in rows])
            return [(ids[int(chunk)], float(score)) for chunk, score in rows]

    def _search_files(
        self, query: str, k: int, filters: Filters, size: int
    ) -> list[tuple[str, float]]:
        """Exact BM25 over the chunks of the filter's files, read from their stored term lists
        (a few files' chunks: cheaper than walking the postings of common terms)."""
        weights: dict[int, float] = {}
        for term in sorted(set(terms(query))):
            term_id, df = self._df(term)
            if df:
                weights[term_id] = self._idf_of(df, size)
        if not weights:
            return []
        where, params = _filter_sql(filters)
        average = float(self._meta("average_length") or 1.0)
        scored: list[tuple[float, str]] = []
        for chunk_id, length, blob in self._db.execute(
            f"SELECT c.chunk_id, c.length, c.postings FROM chunks c WHERE {where}", params
        ):
            pairs = array("q")
            pairs.frombytes(blob)
            score = sum(
                weights[t] * _impact(tf, length, average) / _SCALE
                for t, tf in zip(pairs[0::2], pairs[1::2], strict=True)
                if t in weights
            )
            if score > 0:
                scored.append((score, str(chunk_id)))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [(chunk_id, score) for score, chunk_id in scored[:k]]

    def _chunk_ids(self, rows: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for begin in range(0, len(rows), 500):
            part = rows[begin : begin + 500]
            marks = ",".join("?" * len(part))
            for row, chunk_id in self._db.execute(
                f"SELECT id, chunk_id FROM chunks WHERE id IN ({marks})", part
            ):
                out[int(row)] = str(chunk_id)
        return out

    def manifest(self) -> Iterator[tuple[str, str, str, int]]:
        """(chunk id, file, content hash, chunks of that version) of every indexed chunk."""
        with self._lock:
            rows = self._db.execute("SELECT chunk_id, file, content_hash, n_chunks FROM chunks")
            yield from ((str(a), str(b), str(c), int(d)) for a, b, c, d in rows.fetchall())

    def chunk_ids(self) -> set[str]:
        with self._lock:
            return {str(r[0]) for r in self._db.execute("SELECT chunk_id FROM chunks")}

    def stored_files(self) -> set[str]:
        """The files that have chunks in the index."""
        with self._lock:
            return {str(r[0]) for r in self._db.execute("SELECT DISTINCT file FROM chunks")}

    def file_chunks(self, file: str) -> list[tuple[str, str, int]]:
        """(chunk id, content hash, chunks of that version) of every indexed chunk of `file`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT chunk_id, content_hash, n_chunks FROM chunks WHERE file = ?", (file,)
            ).fetchall()
            return [(str(a), str(b), int(c)) for a, b, c in rows]

    def file_records(self) -> dict[str, tuple[FileRecord, bool]]:
        """Each file's record whose version is stored in full, and whether chunks of other
        versions of that file are stored too (left by an ingest that did not finish)."""
        with self._lock:
            out: dict[str, tuple[FileRecord, bool]] = {}
            for row in self._db.execute(_COMPLETE_RECORDS):
                file, size, mtime, ctime, inode, checked, content_hash, warning = row[:8]
                stat = FileStat(int(size), int(mtime), int(ctime), int(inode), int(checked))
                record = FileRecord(str(file), stat, str(content_hash), warning)
                out[record.file] = (record, bool(row[11]))
            return out

    def record_files(self, records: Sequence[FileRecord]) -> None:
        """Store (or replace) the records of files whose chunks are all written."""
        if not records:
            return
        rows = [(r.file, *r.stat, r.content_hash, r.warning) for r in records]
        with self._lock:
            with self._transaction():
                self._db.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                )

    def forget_files(self, files: Sequence[str] | None = None) -> None:
        """Drop the records of `files` (None: of every file), so those are read again."""
        with self._lock:
            if files is None:
                self._db.execute("DELETE FROM files")
                return
            with self._transaction():
                self._db.executemany("DELETE FROM files WHERE file = ?", [(f,) for f in files])

    # ---- writing ------------------------------------------------------------------------

    def _average(self, chunks: Sequence[IndexedChunk]) -> float:
        """The length normalisation's average, fixed by the first chunks ever written."""
        value = self._meta("average_length")
        if value is not None:
            return float(value)
        lengths = [sum(term_counts(c.text).values()) for c in chunks]
        average = max(1.0, round(sum(lengths) / max(1, len(lengths)), 3))
        self._db.execute("INSERT INTO meta VALUES ('average_length', ?)", (str(average),))
        return average

    def set_average_length(self, chunks: Sequence[IndexedChunk]) -> None:
        """Fix the average from a whole ingest's chunks before its first write (if not yet)."""
        with self._lock:
            self._average(chunks)

    def add(self, chunks: Sequence[IndexedChunk]) -> None:
        """Index `chunks` in one transaction; a chunk id already indexed is left as it is."""
        if not chunks:
            return
        with self._lock:
            with self._transaction():
                self._add(chunks)

    def _add(self, chunks: Sequence[IndexedChunk]) -> None:
        db = self._db
        average = self._average(chunks)
        have: set[str] = set()
        for begin in range(0, len(chunks), 500):
            part = [c.chunk_id for c in chunks[begin : begin + 500]]
            marks = ",".join("?" * len(part))
            have.update(
                str(r[0])
                for r in db.execute(
                    f"SELECT chunk_id FROM chunks WHERE chunk_id IN ({marks})", part
                )
            )
        postings: list[tuple[int, int, int]] = []
        df: Counter[int] = Counter()
        added = 0
        for chunk in chunks:
            if chunk.chunk_id in have:
                continue
            have.add(chunk.chunk_id)
            counts = term_counts(chunk.text)
            length = sum(counts.values())
            term_tfs = [(self._term_id(term), tf) for term, tf in counts.items()]
            pairs = array("q")
            for term_id, tf in term_tfs:
                pairs.extend((term_id, tf))
            cursor = db.execute(
                "INSERT INTO chunks (chunk_id, file, content_hash, n_chunks, date_int, length, "
                "postings) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    chunk.chunk_id,
                    chunk.file,
                    chunk.content_hash,
                    chunk.n_chunks,
                    chunk.date_int,
                    length,
                    pairs.tobytes(),
                ),
            )
            row = int(cursor.lastrowid or 0)
            postings.extend((t, _impact(tf, length, average), row) for t, tf in term_tfs)
            df.update(t for t, _ in term_tfs)
            added += 1
        db.executemany("INSERT INTO postings VALUES (?, ?, ?)", sorted(postings))
        db.executemany("UPDATE terms SET df = df + ? WHERE id = ?", [(n, t) for t, n in df.items()])
        db.execute("UPDATE meta SET value = value + ? WHERE key = 'chunks'", (added,))

    def _term_id(self, term: str) -> int:
        cached = self._term_ids.get(term)
        if cached is not None:
            return cached
        row = self._db.execute("SELECT id FROM terms WHERE term = ?", (term,)).fetchone()
        if row is None:
            cursor = self._db.execute("INSERT INTO terms (term, df) VALUES (?, 0)", (term,))
            row = (cursor.lastrowid,)
        self._term_ids[term] = int(row[0])
        return int(row[0])

    def delete(self, chunk_ids: Sequence[str]) -> None:
        """Drop `chunk_ids` (those not indexed are ignored) in one transaction."""
        if not chunk_ids:
            return
        with self._lock:
            with self._transaction():
                self._delete(chunk_ids)

    def _delete(self, chunk_ids: Sequence[str]) -> None:
        db = self._db
        self._term_ids.clear()  # terms whose last chunk goes are deleted below
        average = float(self._meta("average_length") or 1.0)
        removed = 0
        for begin in range(0, len(chunk_ids), 500):
            part = list(chunk_ids[begin : begin + 500])
            rows = db.execute(
                "SELECT id, length, postings, file, content_hash FROM chunks WHERE chunk_id IN "
                f"({','.join('?' * len(part))})",
                part,
            ).fetchall()
            # A record stands for a stored version: it goes with that version's chunks.
            db.executemany(
                "DELETE FROM files WHERE file = ? AND content_hash = ?",
                sorted({(str(r[3]), str(r[4])) for r in rows}),
            )
            for row, length, blob, _, _ in rows:
                pairs = array("q")
                pairs.frombytes(blob)
                term_tfs = list(zip(pairs[0::2], pairs[1::2], strict=True))
                db.executemany(
                    "DELETE FROM postings WHERE term = ? AND impact = ? AND chunk = ?",
                    [(t, _impact(tf, length, average), row) for t, tf in term_tfs],
                )
                db.executemany(
                    "UPDATE terms SET df = df - 1 WHERE id = ?", [(t,) for t, _ in term_tfs]
                )
                db.execute("DELETE FROM chunks WHERE id = ?", (row,))
                removed += 1
        db.execute("DELETE FROM terms WHERE df <= 0")
        db.execute("UPDATE meta SET value = value - ? WHERE key = 'chunks'", (removed,))

    def mark_synced(self, generation: int) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('synced', ?)", (str(generation),))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _impact(tf: int, length: int, average: float) -> int:
    norm = K1 * (1 - B + B * length / average)
    return round(_SCALE * tf * (K1 + 1) / (tf + norm))


def _filter_sql(filters: Filters) -> tuple[str, list[object]]:
    """The filter as a condition on `chunks c` (undated chunks fail any date bound)."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.files is not None:
        clauses.append(f"c.file IN ({','.join('?' * len(filters.files))})")
        params.extend(filters.files)
    if filters.since is not None:
        clauses.append("c.date_int >= ?")
        params.append(filters.since)
    if filters.until is not None:
        clauses.append("c.date_int <= ?")
        params.append(filters.until)
    return " AND ".join(clauses), params
