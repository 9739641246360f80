"""Incremental, idempotent ingest: articles → chunks → vectors → Chroma, keyed by content hash."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.articles import Article, Listing, list_folder, load_file
from qa.chunking import Chunk, chunk_article
from qa.errors import UserError
from qa.file_records import FileRecord, FileStat, stat_file, unchanged
from qa.lexical.postings import IndexedChunk
from qa.lexical.sync import in_sync, reconcile
from qa.manifest import Manifest
from qa.memory import release_free_memory
from qa.ner import Entity, tag
from qa.settings import MB, Settings
from qa.store import Store
from qa.store_state import StoreState

# progress(phase, done, total): phase is one of PHASES; done <= total. "reading" counts the
# folder's files (those unchanged since they were last read count at once), "chunking" the files
# to read, "tagging" the articles with chunks to write and "embedding"/"writing" those chunks:
# batch by batch, so the totals of the last three grow as the batches come.
ProgressCallback = Callable[[str, int, int], None]
# tagger(texts) -> entity spans of each text (offsets into it): spaCy's NER unless injected.
Tagger = Callable[[list[str]], list[list[Entity]]]
# ("indexing" runs only when the lexical index must be brought in line with Chroma's rows: after
# an unfinished ingest, or once for a store made before the index existed.)
PHASES = ("indexing", "reading", "chunking", "tagging", "embedding", "writing")
# Chunks embedded and written per step: bounded memory, steady progress, and batches long enough
# that one Chroma write per group costs ~1% of the group's embedding time.
_EMBED_GROUP = 256
_TAG_GROUP = 64  # articles per NER step
# Article files read, chunked, tagged, embedded and written per batch (fewer once their sizes
# add up to _BATCH_BYTES): what an ingest holds at once, whatever the size of the corpus.
_BATCH_FILES = 256
_BATCH_BYTES = 8 * MB


@dataclass
class IngestReport:
    """What one ingest run changed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # README/LICENSE-style files, not articles
    notes: list[str] = field(default_factory=list)  # about the store (a damaged one moved aside)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [{"file": f, "reason": r} for f, r in self.skipped]
        data["warnings"] = [{"file": f, "warning": w} for f, w in self.warnings]
        data["seconds"] = round(self.seconds, 3)
        return data

    def summary(self) -> str:
        line = (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; {self.chunks_embedded} chunks embedded "
            f"in {self.seconds:.1f} s"
        )
        if self.skipped:
            line += "; skipped " + ", ".join(f"{f} ({r})" for f, r in self.skipped)
        if self.ignored:
            line += "; not articles: " + ", ".join(self.ignored)
        if self.warnings:
            line += "; warnings: " + ", ".join(f"{f} ({w})" for f, w in self.warnings)
        return "; ".join([line, *self.notes])


def indexed(article: Article, chunk: Chunk, n_chunks: int) -> IndexedChunk:
    """The lexical index's record of a chunk about to be written."""
    date = int(article.date.replace("-", "")) if article.date else None
    return IndexedChunk(
        chunk.chunk_id, chunk.text, article.file, article.content_hash, n_chunks, date
    )


def sync_lexical(store: Store, progress: ProgressCallback | None = None) -> bool:
    """Bring a folder store's lexical index in line with Chroma if it may not be; True if it
    had to (the caller then records a finished state)."""
    index = store.postings
    if index is None or in_sync(index, store.read_state()):
        return False
    reconcile(store, index, (lambda d, t: progress("indexing", d, t)) if progress else None)
    return True


def index_store(store: Store, progress: ProgressCallback | None = None) -> None:
    """Give a folder store made before the lexical index one, from its rows (no embedding)."""
    index = store.postings
    state = store.read_state()
    if index is None or (state is not None and not state.complete):
        return  # an unfinished ingest: the next `newsqa ingest` rebuilds the index with it
    if not sync_lexical(store, progress):
        return
    files = {file for _, file, _, _ in index.manifest()}
    state = (state or StoreState()).finished(articles=len(files), chunks=store.count())
    store.write_state(state)
    index.mark_synced(state.generation)


def chunk_entities(article: Article, chunk: Chunk, spans: list[Entity]) -> str:
    """The article's entity spans inside `chunk`, as JSON [[start, end, label], …] relative to
    the chunk's text."""
    inside = [
        [s - chunk.start, e - chunk.start, label]
        for s, e, label in spans
        if s >= chunk.start and e <= chunk.end
    ]
    return json.dumps(inside, separators=(",", ":"))


def chunk_metadata(
    article: Article, chunk: Chunk, n_chunks: int, entities: str = "[]"
) -> dict[str, Any]:
    """Flat Chroma metadata; the date is also an int YYYYMMDD so Chroma can range-filter it."""
    meta: dict[str, Any] = {
        "entities": entities,
        "doc_id": article.doc_id,
        "file": article.file,
        "title": article.title,
        "content_hash": article.content_hash,
        "chunk_index": chunk.index,
        "n_chunks": n_chunks,
        "start": chunk.start,
        "end": chunk.end,
    }
    for key in ("date", "author", "place", "agency"):
        value = getattr(article, key)
        if value:
            meta[key] = value
    if article.date:
        meta["date_int"] = int(article.date.replace("-", ""))
    return meta


def _write(
    store: Store,
    vectors: Any,
    pending: list[tuple[Article, Chunk, int]],
    spans: dict[str, list[Entity]],
) -> None:
    """Write one embedded group to Chroma in a single call.

    Rows go straight to the collection (float32 array, our flat metadata, the chunk text as the
    document): no llama-index node objects, no per-float Python lists, no `_node_content` JSON
    copy of each chunk in its metadata. ChromaVectorStore still queries these rows (its legacy
    path rebuilds nodes from metadata + document).
    """
    store.add(
        ids=[chunk.chunk_id for _, chunk, _ in pending],
        embeddings=vectors,
        documents=[chunk.text for _, chunk, _ in pending],
        metadatas=[
            chunk_metadata(article, chunk, n, chunk_entities(article, chunk, spans[article.file]))
            for article, chunk, n in pending
        ],
    )
    if store.postings is not None:  # after Chroma: a crash between leaves what sync repairs
        store.postings.add([indexed(article, chunk, n) for article, chunk, n in pending])


def _tag_articles(
    articles: list[Article], tagger: Tagger, tagged: Callable[[int], None]
) -> dict[str, list[Entity]]:
    """Entity spans (file offsets) of each article, tagged body by body; `tagged(n)` after each
    group of n."""
    spans: dict[str, list[Entity]] = {}
    for begin in range(0, len(articles), _TAG_GROUP):
        group = articles[begin : begin + _TAG_GROUP]
        for article, found in zip(group, tagger([a.body for a in group]), strict=True):
            spans[article.file] = [
                (article.body_start + s, article.body_start + e, label) for s, e, label in found
            ]
        tagged(len(group))
    return spans


def ingest(
    settings: Settings,
    store: Store,
    embedder_factory: Callable[[], Any],
    *,
    progress: ProgressCallback | None = None,
    tagger: Tagger = tag,
) -> IngestReport:
    """Bring the store in line with the articles folder; unchanged articles cost no embedding,
    and a file whose stat matches the record of its last reading is not read at all.

    Files are read, chunked, tagged, embedded and written a batch at a time, so memory does not
    grow with the corpus. The store says it is incomplete from before the first write until
    after the last; replaced and removed chunks are deleted only after every new one is written.
    """
    started = time.perf_counter()
    listing = list_folder(settings.seeds_dir)
    sync_lexical(store, progress)  # first: reconciling drops the file records
    run = _Run(settings, store, embedder_factory, progress or _no_progress, tagger)
    run.report.skipped.extend(listing.skipped)
    run.report.ignored.extend(listing.ignored)
    to_read = run.skip_unchanged(listing.files)
    for batch in _batches(to_read):
        run.batch(batch)
    run.finish(listing)
    run.report.seconds = time.perf_counter() - started
    return run.report


def _no_progress(phase: str, done: int, total: int) -> None:
    """A progress callback that shows nothing."""


# One file to read: its path relative to the folder, its path, and its stat before the read.
_ToRead = tuple[str, Path, FileStat | None]


def _batches(files: list[_ToRead]) -> Iterator[list[_ToRead]]:
    """`files` in batches of at most _BATCH_FILES files and, past the first file, _BATCH_BYTES."""
    batch: list[_ToRead] = []
    size = 0
    for item in files:
        grows = item[2].size if item[2] is not None else 0
        if batch and (len(batch) >= _BATCH_FILES or size + grows > _BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += grows
    if batch:
        yield batch


class _Run:
    """One ingest's progress through the folder: what it found, wrote and will delete."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder_factory: Callable[[], Any],
        progress: ProgressCallback,
        tagger: Tagger,
    ) -> None:
        self.settings, self.store, self.progress, self.tagger = settings, store, progress, tagger
        self.embedder_factory = embedder_factory
        self.embedder: Any = None
        self.report = IngestReport()
        self.manifest = Manifest(store)
        self.before = store.read_state()
        self.started = False  # the "incomplete" state is written
        self.written: list[str] = []  # chunk ids this run wrote (what a rollback deletes)
        self.stale: list[str] = []  # chunk ids of replaced versions, deleted at the end
        self.present: set[str] = set()  # files whose current version the store holds
        self.listed = self.looked_at = self.to_read = self.read = 0  # files (reading, chunking)
        self.tag_done = self.tag_total = 0  # articles
        self.chunks_total = self.embedded = 0  # chunks (embedding, writing)

    def skip_unchanged(self, files: list[tuple[str, Path]]) -> list[_ToRead]:
        """Count the files whose stat matches their record as unchanged; return the others."""
        index = self.store.postings
        records = index.file_records() if index is not None else {}
        limit = self.settings.max_article_bytes
        to_read: list[_ToRead] = []
        for rel, path in files:
            now = stat_file(path)
            found = records.get(rel)
            if found is None or not unchanged(found[0], now) or (now and now.size > limit):
                to_read.append((rel, path, now))
                continue
            record, others = found
            self.report.unchanged += 1
            self.present.add(rel)
            if record.warning:
                self.report.warnings.append((rel, record.warning))
            if others:  # an older version left by an ingest that did not finish
                self.stale.extend(self.manifest.versions(rel).ids_except(record.content_hash))
        self.listed, self.to_read = len(files), len(to_read)
        self.looked_at = self.listed - self.to_read
        self.progress("reading", self.looked_at, self.listed)
        return to_read

    def batch(self, files: list[_ToRead]) -> None:
        """Read, chunk, tag, embed and write one batch of files, then record them."""
        loaded = self._read(files)
        pending, records = self._chunk(loaded)
        articles = list({article.file: article for article, _, _ in pending}.values())
        spans = self._tag(articles)
        release_free_memory()  # spaCy's batch buffers, before the embedder's arena grows
        self._guarded(lambda: self._write(pending, spans, records))
        release_free_memory()

    def _read(self, files: list[_ToRead]) -> list[tuple[Article, FileRecord | None]]:
        out: list[tuple[Article, FileRecord | None]] = []
        for rel, path, now in files:
            self.progress("reading", self.looked_at, self.listed)
            self.looked_at += 1
            loaded = load_file(rel, path, self.settings.max_article_bytes)
            if loaded.article is None:
                self.report.skipped.append((rel, loaded.skipped or "empty article"))
                continue
            if loaded.warning:
                self.report.warnings.append((rel, loaded.warning))
            article = loaded.article
            record = FileRecord(rel, now, article.content_hash, loaded.warning) if now else None
            out.append((article, record))
        self.progress("reading", self.looked_at, self.listed)
        return out

    def _chunk(
        self, loaded: list[tuple[Article, FileRecord | None]]
    ) -> tuple[list[tuple[Article, Chunk, int]], list[FileRecord]]:
        """The chunks to write of the batch's articles, and the records to write after them."""
        self.progress("chunking", self.read, self.to_read)
        pending: list[tuple[Article, Chunk, int]] = []
        records = [record for _, record in loaded if record is not None]
        for article, _ in loaded:
            self.present.add(article.file)
            versions = self.manifest.versions(article.file)
            self.stale.extend(versions.ids_except(article.content_hash))
            if versions.complete(article.content_hash):
                self.report.unchanged += 1
                continue
            if versions.ids_except(article.content_hash):
                self.report.updated += 1
            else:
                self.report.added += 1
            have = versions.ids_of(article.content_hash)
            chunks = chunk_article(article, self.settings.chunk_tokens, self.settings.chunk_overlap)
            pending.extend((article, c, len(chunks)) for c in chunks if c.chunk_id not in have)
        self.read = self.looked_at - (self.listed - self.to_read)
        self.progress("chunking", self.read, self.to_read)
        return pending, records

    def _tag(self, articles: list[Article]) -> dict[str, list[Entity]]:
        if not articles:
            return {}
        self.tag_total += len(articles)

        def tagged(n: int) -> None:
            self.tag_done += n
            self.progress("tagging", self.tag_done, self.tag_total)

        return _tag_articles(articles, self.tagger, tagged)

    def _start(self) -> None:
        """Say the store is incomplete (before this run's first change to its rows)."""
        if not self.started:
            self.store.write_state((self.before or StoreState()).started())
            self.started = True

    def _write(
        self,
        pending: list[tuple[Article, Chunk, int]],
        spans: dict[str, list[Entity]],
        records: list[FileRecord],
    ) -> None:
        """Embed and write `pending` group by group, then the batch's file records."""
        index = self.store.postings
        if pending:
            self._start()
            if index is not None:
                index.set_average_length([indexed(*item) for item in pending[:5000]])
            # Longest first: every group the embedder sees holds chunks of nearly equal length
            # (little padding), and a slow run shows its worst case in its first seconds.
            pending.sort(key=lambda item: -len(item[1].text))
            self.chunks_total += len(pending)
            if self.embedder is None:
                self.embedder = self.embedder_factory()
            for begin in range(0, len(pending), _EMBED_GROUP):
                group = pending[begin : begin + _EMBED_GROUP]
                vectors = self.embedder.embed([chunk.text for _, chunk, _ in group])
                self.embedded += len(group)
                self.progress("embedding", self.embedded, self.chunks_total)
                _write(self.store, vectors, group, spans)
                self.written.extend(chunk.chunk_id for _, chunk, _ in group)
                self.progress("writing", len(self.written), self.chunks_total)
        if index is not None:  # only now are all of these files' chunks stored
            index.record_files(records)

    def finish(self, listing: Listing) -> None:
        """Delete what was replaced or removed, and record the finished state."""
        listed = {rel for rel, _ in listing.files}
        kept = _kept_by_skips(self.report.skipped, self.manifest.files)
        for file in sorted(self.manifest.files - listed - kept):
            self.report.removed += 1
            versions = self.manifest.versions(file)
            self.stale.extend(i for ids in versions.ids_by_hash.values() for i in ids)
        self._guarded(self._delete_stale)
        self.report.skipped.sort()
        self.report.warnings.sort()
        self.report.chunks_embedded = len(self.written)
        self.report.chunks_deleted = len(self.stale)
        state = self.store.read_state() or self.before or StoreState()
        state = state.finished(articles=len(self.present | kept), chunks=self.store.count())
        self.store.write_state(state)
        if self.store.postings is not None:
            self.store.postings.mark_synced(state.generation)

    def _delete_stale(self) -> None:
        """Old versions go only after their replacements are fully written: no gap on a crash."""
        if not self.stale:
            return
        self._start()
        self.store.delete(self.stale)
        if self.store.postings is not None:
            self.store.postings.delete(self.stale)

    def _guarded(self, write: Callable[[], None]) -> None:
        """Run `write`; on an error, undo this run's writes and raise a UserError saying so."""
        try:
            write()
        except Exception as exc:
            raise _rolled_back(self.store, self.written, self.before, exc) from None


def _kept_by_skips(skipped: list[tuple[str, str]], stored: set[str]) -> set[str]:
    """Stored files that a skip covers (the file itself, or a folder ending in "/" that could
    not be read): what the store holds for them stays until they can be read again."""
    names = {f for f, _ in skipped if not f.endswith("/")}
    folders = tuple(f for f, _ in skipped if f.endswith("/"))
    return {f for f in stored if f in names or f.startswith(folders)}


def _rolled_back(
    store: Store, written: list[str], before: StoreState | None, exc: Exception
) -> UserError:
    """Undo a failed run's writes (its rows are all new ids) and say what state it left."""
    reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    try:
        store.delete(written)
        if store.postings is not None:
            store.postings.delete(written)
        if before is not None:
            store.write_state(before)
    except Exception:  # the store is unreachable too: the next ingest will converge
        return UserError(
            f"cannot write to the store at {store.location}: {reason}; the store is incomplete "
            "until `newsqa ingest` runs again"
        )
    return UserError(f"cannot write to the store at {store.location}: {reason}; nothing changed")
