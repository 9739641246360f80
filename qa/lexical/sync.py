"""Bringing a folder store's postings index in line with its Chroma rows.

Ingest writes Chroma first and the index second, group by group, so a crash can leave rows in
Chroma that the index lacks (or, after a crash mid-delete, index rows whose chunks Chroma no
longer has). When the index is not known to match the store — after an unfinished ingest, or
for a store made before the index existed — this reads Chroma's ids, indexes the missing rows
from their stored text (nothing is re-embedded) and drops the index rows Chroma lacks. It also
drops every file record (`qa.file_records`): after a crash they are not known to describe what is
stored, so the next ingest reads every article file once more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qa.lexical.postings import IndexedChunk, PostingsIndex
from qa.store import Store
from qa.store_state import StoreState

_GROUP = 500


def indexed_chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> IndexedChunk:
    date = meta.get("date_int")
    return IndexedChunk(
        chunk_id,
        text,
        str(meta.get("file", "")),
        str(meta.get("content_hash", "")),
        int(meta.get("n_chunks", -1)),
        date if isinstance(date, int) else None,
    )


def in_sync(index: PostingsIndex, state: StoreState | None) -> bool:
    """True if the index was last synced at the store's current, finished generation."""
    return state is not None and state.complete and index.synced == state.generation


def reconcile(
    store: Store, index: PostingsIndex, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Make the index hold exactly Chroma's rows and no file records; (rows indexed, rows
    dropped)."""
    index.forget_files()
    stored = [row_id for row_id, _, _ in store.rows(include=[])]
    have = index.chunk_ids()
    missing = sorted(set(stored) - have)
    extra = sorted(have - set(stored))
    index.delete(extra)
    if missing:
        texts = [
            indexed_chunk(row_id, doc or "", meta)
            for begin in range(0, min(len(missing), 5000), _GROUP)
            for row_id, meta, doc in _read(store, missing[begin : begin + _GROUP])
        ]
        index.set_average_length(texts)
    for begin in range(0, len(missing), _GROUP):
        part = missing[begin : begin + _GROUP]
        index.add([indexed_chunk(i, doc or "", meta) for i, meta, doc in _read(store, part)])
        if progress:
            progress(begin + len(part), len(missing))
    return len(missing), len(extra)


def _read(store: Store, ids: list[str]) -> list[tuple[str, dict[str, Any], str | None]]:
    got = store.collection.get(ids=ids, include=["documents", "metadatas"])
    metas = got.get("metadatas") or [{}] * len(got["ids"])
    docs = got.get("documents") or [None] * len(got["ids"])
    return list(zip(got["ids"], metas, docs, strict=True))
