"""What a store holds per article file: for each stored version (content hash), its chunk ids and
how many chunks that version has. Ingest compares it with the folder to know what to write and
what to delete."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from qa.lexical.postings import PostingsIndex
from qa.store import Store


@dataclass
class Versions:
    """The stored versions of one file: chunk ids per content hash, and expected counts."""

    ids_by_hash: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    expected: dict[str, int] = field(default_factory=dict)

    def add(self, chunk_id: str, content_hash: str, n_chunks: int) -> None:
        self.ids_by_hash[content_hash].add(chunk_id)
        self.expected[content_hash] = n_chunks

    def complete(self, content_hash: str) -> bool:
        have = self.ids_by_hash.get(content_hash, set())
        return bool(have) and len(have) == self.expected.get(content_hash, -1)

    def ids_except(self, content_hash: str) -> list[str]:
        return sorted(i for h, ids in self.ids_by_hash.items() if h != content_hash for i in ids)

    def ids_of(self, content_hash: str) -> set[str]:
        return self.ids_by_hash.get(content_hash, set())


class Manifest:
    """The store's files and, on demand, their versions: read file by file from a folder store's
    lexical index (memory independent of the corpus but for the names), or all at once from the
    metadata of every row of a server's collection (which has no index beside it)."""

    def __init__(self, store: Store) -> None:
        self._index: PostingsIndex | None = store.postings
        self._all: dict[str, Versions] | None = None
        self.files: set[str]
        if self._index is not None:
            self.files = self._index.stored_files()
        else:
            self._all = _by_file(
                (row_id, str(m.get("file", "")), str(m.get("content_hash", "")), m)
                for row_id, m, _ in store.rows(include=["metadatas"])
            )
            self.files = set(self._all)

    def versions(self, file: str) -> Versions:
        """The stored versions of `file` (empty if none)."""
        if self._all is not None:
            return self._all.get(file) or Versions()
        if self._index is None or file not in self.files:
            return Versions()
        versions = Versions()
        for chunk_id, content_hash, n_chunks in self._index.file_chunks(file):
            versions.add(chunk_id, content_hash, n_chunks)
        return versions


def _by_file(rows: Iterable[tuple[str, str, str, dict[str, Any]]]) -> dict[str, Versions]:
    by_file: dict[str, Versions] = defaultdict(Versions)
    for row_id, file, content_hash, meta in rows:
        by_file[file].add(row_id, content_hash, int(meta.get("n_chunks", -1)))
    return dict(by_file)
