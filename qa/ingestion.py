"""Incremental, idempotent ingest: articles → chunks → vectors → Chroma, keyed by content hash."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from qa.articles import Article, load_articles
from qa.chunking import Chunk, chunk_article
from qa.errors import UserError
from qa.lexical.postings import IndexedChunk
from qa.lexical.sync import in_sync, reconcile
from qa.ner import Entity, tag
from qa.settings import Settings
from qa.store import Store
from qa.store_state import StoreState

# progress(phase, done, total): phase is one of PHASES, done/total count files, articles or chunks.
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


@dataclass
class _Existing:
    """What the store holds for one file: chunk ids per content hash, and expected counts."""

    ids_by_hash: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    expected: dict[str, int] = field(default_factory=dict)

    def complete(self, content_hash: str) -> bool:
        have = self.ids_by_hash.get(content_hash, set())
        return bool(have) and len(have) == self.expected.get(content_hash, -1)

    def ids_except(self, content_hash: str) -> list[str]:
        return sorted(i for h, ids in self.ids_by_hash.items() if h != content_hash for i in ids)


def _existing_rows(store: Store) -> dict[str, _Existing]:
    """What the store holds per file: from a folder store's lexical index (its manifest), or
    from the metadata of every row of a server's collection."""
    by_file: dict[str, _Existing] = defaultdict(_Existing)
    index = store.postings
    if index is not None:
        rows = index.manifest()
    else:
        rows = (
            (
                row_id,
                str(m.get("file", "")),
                str(m.get("content_hash", "")),
                int(m.get("n_chunks", -1)),
            )
            for row_id, m, _ in store.rows(include=["metadatas"])
        )
    for row_id, file, content_hash, n_chunks in rows:
        entry = by_file[file]
        entry.ids_by_hash[content_hash].add(row_id)
        entry.expected[content_hash] = n_chunks
    return by_file


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
    pending: list[tuple[Article, Chunk, int]],
    progress: ProgressCallback | None,
    tagger: Tagger,
) -> dict[str, list[Entity]]:
    """Entity spans (file offsets) of every article with chunks to write, tagged body by body."""
    articles = list({article.file: article for article, _, _ in pending}.values())
    spans: dict[str, list[Entity]] = {}
    for begin in range(0, len(articles), _TAG_GROUP):
        group = articles[begin : begin + _TAG_GROUP]
        for article, found in zip(group, tagger([a.body for a in group]), strict=True):
            spans[article.file] = [
                (article.body_start + s, article.body_start + e, label) for s, e, label in found
            ]
        if progress:
            progress("tagging", min(begin + _TAG_GROUP, len(articles)), len(articles))
    return spans


def ingest(
    settings: Settings,
    store: Store,
    embedder_factory: Callable[[], Any],
    *,
    progress: ProgressCallback | None = None,
    tagger: Tagger = tag,
) -> IngestReport:
    """Bring the store in line with the articles folder; unchanged articles cost no embedding."""
    started = time.perf_counter()
    loaded = load_articles(
        settings.seeds_dir,
        (lambda d, t: progress("reading", d, t)) if progress else None,
        max_bytes=settings.max_article_bytes,
    )
    report = IngestReport(skipped=loaded.skipped, warnings=loaded.warnings, ignored=loaded.ignored)
    sync_lexical(store, progress)
    existing = _existing_rows(store)
    pending: list[tuple[Article, Chunk, int]] = []
    stale: list[str] = []
    for done, article in enumerate(loaded.articles):
        if progress and done % 100 == 0:
            progress("chunking", done, len(loaded.articles))
        entry = existing.get(article.file)
        if entry is not None and entry.complete(article.content_hash):
            report.unchanged += 1
            stale.extend(entry.ids_except(article.content_hash))
            continue
        if entry is None or not any(entry.ids_except(article.content_hash)):
            report.added += 1
        else:
            report.updated += 1
        have = entry.ids_by_hash.get(article.content_hash, set()) if entry else set()
        chunks = chunk_article(article, settings.chunk_tokens, settings.chunk_overlap)
        pending.extend((article, c, len(chunks)) for c in chunks if c.chunk_id not in have)
        if entry is not None:
            stale.extend(entry.ids_except(article.content_hash))
    if progress:
        progress("chunking", len(loaded.articles), len(loaded.articles))
    kept = _kept_by_skips(loaded.skipped, existing)
    present = {a.file for a in loaded.articles} | kept
    for file, entry in existing.items():
        if file not in present:
            report.removed += 1
            stale.extend(i for ids in entry.ids_by_hash.values() for i in ids)

    spans = _tag_articles(pending, progress, tagger)
    if store.postings is not None and pending:
        store.postings.set_average_length([indexed(*item) for item in pending[:5000]])
    before = store.read_state()
    if pending or stale:  # from here until the end the store says it is incomplete
        store.write_state((before or StoreState()).started())
    written: list[str] = []
    try:
        _embed_and_write(store, embedder_factory, pending, spans, progress, written)
        # Old versions go only after their replacements are fully written: no gap on a crash.
        store.delete(stale)
        if store.postings is not None:
            store.postings.delete(stale)
    except Exception as exc:
        raise _rolled_back(store, written, before, exc) from None
    report.chunks_embedded = len(written)
    report.chunks_deleted = len(stale)
    files = {a.file for a in loaded.articles} | kept
    state = store.read_state() or before or StoreState()
    state = state.finished(articles=len(files), chunks=store.count())
    store.write_state(state)
    if store.postings is not None:
        store.postings.mark_synced(state.generation)
    report.seconds = time.perf_counter() - started
    return report


def _kept_by_skips(skipped: list[tuple[str, str]], existing: dict[str, Any]) -> set[str]:
    """Stored files that a skip covers (the file itself, or a folder ending in "/" that could
    not be read): what the store holds for them stays until they can be read again."""
    names = {f for f, _ in skipped if not f.endswith("/")}
    folders = tuple(f for f, _ in skipped if f.endswith("/"))
    return {f for f in existing if f in names or f.startswith(folders)}


def _embed_and_write(
    store: Store,
    embedder_factory: Callable[[], Any],
    pending: list[tuple[Article, Chunk, int]],
    spans: dict[str, list[Entity]],
    progress: ProgressCallback | None,
    written: list[str],
) -> None:
    """Embed and write `pending` group by group, appending each written chunk id to `written`."""
    if not pending:
        return
    # Longest first, globally: every batch the embedder sees holds chunks of nearly equal
    # length (little padding), and a slow run shows its worst case in the first seconds.
    pending.sort(key=lambda item: -len(item[1].text))
    embedder = embedder_factory()
    for begin in range(0, len(pending), _EMBED_GROUP):
        group = pending[begin : begin + _EMBED_GROUP]
        vectors = embedder.embed([chunk.text for _, chunk, _ in group])
        if progress:
            progress("embedding", begin + len(group), len(pending))
        _write(store, vectors, group, spans)
        written.extend(chunk.chunk_id for _, chunk, _ in group)
        if progress:
            progress("writing", len(written), len(pending))


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
