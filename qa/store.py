"""The Chroma store: a persistent folder by default, or a Chroma server when a URL is set."""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qa.errors import UserError
from qa.lexical import LexicalIndex
from qa.lexical.contains import ContainsIndex
from qa.lexical.postings import INDEX_FILE, PostingsIndex
from qa.model_files import MODEL_NAME
from qa.ner import NER_MODEL
from qa.settings import Settings
from qa.store_lock import lock_path
from qa.store_state import (
    StoreState,
    read_file_state,
    state_from_metadata,
    state_metadata,
    write_file_state,
)

_PAGE = 500  # rows per read: 10x smaller peak memory than 5000 at the same speed
# Chroma's HNSW defaults (M=16, ef_construction=100, ef_search=100) find only ~80% of the true
# 16 nearest chunks for the dev questions in a 10k-article corpus: the seed articles sit far
# from the mass of other news, where greedy graph search misses them. These settings give
# ~99.7% recall@16 for ~2 s more per 10k-article ingest and ~0.5 ms more per query.
EF_SEARCH = 400
# Chroma persists its HNSW index every `sync_threshold` rows (default 1000) and replays the rows
# written since into the graph whenever a process opens the collection: up to 999 insertions,
# ~1.7 s at 13k chunks before the first question. At 100 the replay is ~0.2 s, for ~14 % more
# time in Chroma's writes at ingest.
SYNC_THRESHOLD = 100
HNSW: dict[str, Any] = {
    "space": "cosine",
    "ef_construction": 200,
    "max_neighbors": 32,
    "ef_search": EF_SEARCH,
    "sync_threshold": SYNC_THRESHOLD,
    "batch_size": SYNC_THRESHOLD,
}


@dataclass
class Store:
    """An open Chroma collection and its lexical index."""

    client: Any
    collection: Any
    lexical: LexicalIndex  # a PostingsIndex for a folder, a ContainsIndex for a server
    location: str
    lock: Path  # the ingest lock (see qa.store_lock)
    folder: Path | None = None  # the store folder (None for a server)
    read_only: bool = False  # a folder we may not write: answered from a private copy
    max_batch: int = 0  # the client's batch limit, asked once
    notes: list[str] = field(default_factory=list)  # what opening did (moved a damaged store…)

    def count(self) -> int:
        return int(self.collection.count())

    @property
    def postings(self) -> PostingsIndex | None:
        """The folder store's own lexical index (None for a server)."""
        return self.lexical if isinstance(self.lexical, PostingsIndex) else None

    def close(self) -> None:
        self.lexical.close()

    def read_state(self) -> StoreState | None:
        """The ingest state as the store holds it now (None: a store older than states)."""
        if self.folder is not None:
            return read_file_state(self.folder)
        try:
            fresh = self.client.get_collection(self.collection.name, embedding_function=None)
        except Exception as exc:  # the server went away, or the collection was dropped
            if is_store_gone(exc):
                raise
            raise UserError(
                f"lost the connection to the Chroma server at {self.location}: {_reason(exc)}"
            ) from None
        return state_from_metadata(fresh.metadata)

    def write_state(self, state: StoreState) -> None:
        if self.folder is not None:
            write_file_state(self.folder, state)
            return
        kept = {k: v for k, v in (self.collection.metadata or {}).items() if ":" not in k}
        self.collection.modify(metadata={**kept, **state_metadata(state)})

    def rows(self, include: list[str]) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """(id, metadata, document) for every row, paged so a server never sends one huge reply."""
        offset = 0
        while True:
            page = self.collection.get(include=include, limit=_PAGE, offset=offset)
            ids = page["ids"]
            metas = page.get("metadatas") or [{}] * len(ids)
            docs = page.get("documents") or [None] * len(ids)
            yield from zip(ids, metas, docs, strict=True)
            if len(ids) < _PAGE:
                return
            offset += len(ids)

    def delete(self, ids: list[str]) -> None:
        for begin in range(0, len(ids), _PAGE):
            self.collection.delete(ids=ids[begin : begin + _PAGE])

    def add(
        self,
        *,
        ids: list[str],
        embeddings: Any,
        documents: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        """Upsert rows in as few calls as the client's batch limit allows (idempotent by id)."""
        step = self._max_batch()
        for begin in range(0, len(ids), step):
            end = begin + step
            self.collection.upsert(
                ids=ids[begin:end],
                embeddings=embeddings[begin:end],
                documents=documents[begin:end],
                metadatas=metadatas[begin:end],
            )

    def _max_batch(self) -> int:
        if not self.max_batch:
            try:
                self.max_batch = max(1, int(self.client.get_max_batch_size()))
            except Exception:  # an old or unusual server: Chroma's SQLite-bound limit
                self.max_batch = 5000
        return self.max_batch


def _chroma_settings(token: str | None = None) -> Any:
    """Telemetry off; with a token, Chroma's own token auth client provider.

    The provider sends `Authorization: Bearer <token>` (Chroma's default) or, with
    CHROMA_AUTH_TOKEN_TRANSPORT_HEADER=X-Chroma-Token in the environment, `X-Chroma-Token`.
    """
    from chromadb.config import Settings as ChromaSettings

    auth: dict[str, Any] = {}
    if token:
        auth = {
            "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
            "chroma_client_auth_credentials": token,
        }
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False, **auth)


def _http_client(url: str, token: str | None) -> Any:
    import chromadb

    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
        parsed = parsed._replace(netloc="")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UserError(f"Chroma URL must look like http://host:port, got {url!r}")
    if token is not None and not (token.isascii() and token.isprintable() and " " not in token):
        raise UserError("QA_CHROMA_TOKEN must be printable ASCII without spaces")
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname,
            port=port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=_chroma_settings(token),
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises assorted connection and HTTP errors
        raise UserError(f"cannot reach the Chroma server at {url}: {_reason(exc)}") from None
    return client


class _ServerCollection:
    """A server collection whose connection failures become one-line errors naming the URL."""

    def __init__(self, collection: Any, url: str) -> None:
        self._collection = collection
        self._url = url

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._collection, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            import httpx

            try:
                return value(*args, **kwargs)
            except httpx.TransportError as exc:
                raise UserError(
                    f"lost the connection to the Chroma server at {self._url}: {_reason(exc)}"
                ) from None

        return call


def is_store_gone(exc: BaseException) -> bool:
    """True for Chroma's errors when the collection we hold was dropped or replaced."""
    from chromadb.errors import ChromaError

    return isinstance(exc, ChromaError) or "does not exist" in str(exc)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


_SEGMENT_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DAMAGE = ("malformed", "not a database", "file is encrypted", "no such table", "disk i/o error")


def store_writable(path: Path) -> bool:
    """True if this process may write the store folder (or create it)."""
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), Path("/"))
        return os.access(parent, os.W_OK)
    database = path / "chroma.sqlite3"
    return os.access(path, os.W_OK) and (not database.exists() or os.access(database, os.W_OK))


def _private_copy(path: Path) -> Path:
    """A temporary copy of a read-only store folder, removed at exit (Chroma's SQLite needs to
    write even to read)."""
    copy = Path(tempfile.mkdtemp(prefix="newsqa-readonly-")) / "store"
    atexit.register(shutil.rmtree, copy.parent, True)
    try:
        shutil.copytree(
            path, copy, copy_function=shutil.copyfile, ignore=shutil.ignore_patterns("*.lock")
        )
        for folder, _, files in os.walk(copy):  # the copy's folders kept the original's modes
            os.chmod(folder, 0o700)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o600)
    except OSError as exc:
        raise UserError(f"cannot read the store at {path}: {exc.strerror or exc}") from None
    return copy


def move_aside(path: Path) -> Path:
    """Rename a damaged store folder out of the way (never delete a user's data silently)."""
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    suffix = 1
    while target.exists():
        suffix += 1
        target = target.with_name(f"{target.name.split('~')[0]}~{suffix}")
    path.rename(target)
    return target


def prune_segments(path: Path) -> list[str]:
    """Delete the segment folders no collection uses (Chroma leaves them after a delete)."""
    try:
        with sqlite3.connect(f"file:{path / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
            used = {str(row[0]) for row in db.execute("SELECT id FROM segments")}
    except sqlite3.Error:
        return []  # not a store we understand: touch nothing
    orphans = [
        d.name
        for d in path.iterdir()
        if d.is_dir() and _SEGMENT_DIR.match(d.name) and d.name not in used
    ]
    for name in orphans:
        shutil.rmtree(path / name, ignore_errors=True)
    return orphans


@dataclass
class _Client:
    client: Any
    location: str
    read_only: bool = False
    note: str | None = None  # what opening had to do, for the user
    path: Path | None = None  # the folder Chroma opened (a private copy when read-only)


def open_client(settings: Settings, *, replace_damaged: bool = False) -> _Client:
    """A Chroma client for the settings, with a human-readable location.

    A read-only folder is opened through a private copy. A damaged folder store is an error that
    names the fix, or with `replace_damaged` is moved aside (the note says where) and made anew.
    """
    if settings.chroma_url:
        url = settings.chroma_url
        return _Client(_http_client(url, settings.chroma_token), url)
    import chromadb

    path = settings.store_dir
    if path.exists() and not path.is_dir():
        raise UserError(f"store path is not a folder: {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the store at {path}: {exc.strerror or exc}") from None
    read_only = not store_writable(path)
    where = _private_copy(path) if read_only else path
    try:
        client = chromadb.PersistentClient(path=str(where), settings=_chroma_settings())
    except Exception as exc:
        reset_client_cache()  # a failed open leaves a half-made client cached: forget it
        reason = _reason(exc)
        if not any(mark in reason.lower() for mark in _DAMAGE):
            raise UserError(f"cannot open the store at {path}: {reason}") from None
        if not replace_damaged or read_only:
            raise UserError(
                f"the store at {path} is damaged ({reason}); run `newsqa ingest --rebuild` to "
                "move it aside and build it again"
            ) from None
        moved = move_aside(path)
        path.mkdir(parents=True)
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        return _Client(client, str(path), note=f"the damaged store was moved to {moved}", path=path)
    return _Client(client, str(path), read_only, path=where)


def open_store(settings: Settings, *, rebuild: bool = False) -> Store:
    """Open (creating if needed) the collection and its lexical index; `rebuild` drops both first
    (and moves a damaged store folder aside)."""
    opened = open_client(settings, replace_damaged=rebuild)
    client, location, read_only = opened.client, opened.location, opened.read_only
    folder = None if settings.chroma_url else settings.store_dir
    lock = lock_path(settings.store_dir, settings.chroma_url, settings.collection)
    notes = [opened.note] if opened.note else []
    try:
        names = [c.name for c in client.list_collections()]
        if read_only and settings.collection in names:
            collection = client.get_collection(settings.collection, embedding_function=None)
        else:
            if rebuild and settings.collection in names:
                client.delete_collection(settings.collection)
            collection = client.get_or_create_collection(
                settings.collection,
                embedding_function=None,  # never Chroma's default, which downloads a model
                metadata={"hnsw:space": "cosine", "embedder": MODEL_NAME, "entities": NER_MODEL},
                configuration={"hnsw": HNSW},
            )
            _tune_hnsw(collection)
        if rebuild and folder is not None:
            prune_segments(folder)
            remove_lexical_index(folder)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"cannot open the store at {location}: {_reason(exc)}") from None
    if settings.chroma_url:
        collection = _ServerCollection(collection, location)
    metadata = collection.metadata or {}
    embedder = metadata.get("embedder")
    if embedder not in (None, MODEL_NAME):
        raise UserError(
            f"the store at {location} was built with embedder {embedder!r}; "
            "run `newsqa ingest --rebuild`"
        )
    if metadata.get("entities") != NER_MODEL and not rebuild and collection.count() > 0:
        raise UserError(
            f"the store at {location} was built without entity spans (an older newsqa); "
            "run `newsqa ingest --rebuild`"
        )
    lexical: LexicalIndex
    if opened.path is None:
        lexical = ContainsIndex(collection, collection.count)
    else:
        lexical = _open_postings(opened.path, collection, read_only)
    return Store(
        client,
        collection,
        lexical,
        location,
        lock,
        folder,
        read_only,
        notes=notes,
    )


def remove_lexical_index(folder: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (folder / (INDEX_FILE + suffix)).unlink(missing_ok=True)


def _open_postings(folder: Path, collection: Any, read_only: bool) -> LexicalIndex:
    """The folder's postings index; a damaged one is replaced (ingest refills it from Chroma).

    A read-only store without a usable index (one made by an older newsqa) is searched through
    Chroma's full-text index instead, as a server is.
    """
    try:
        index = PostingsIndex(folder / INDEX_FILE)
    except sqlite3.DatabaseError:
        if read_only:
            return ContainsIndex(collection, collection.count)
        remove_lexical_index(folder)
        index = PostingsIndex(folder / INDEX_FILE)
    if read_only and index.synced is None:
        index.close()
        return ContainsIndex(collection, collection.count)
    return index


def _tune_hnsw(collection: Any) -> None:
    """Stores made with Chroma's defaults get our ef_search and sync threshold (the HNSW knobs
    that can change after creation; they apply from the next time the index is loaded)."""
    import warnings

    with warnings.catch_warnings():  # "legacy embedding function config": ours is None
        warnings.simplefilter("ignore", DeprecationWarning)
        hnsw = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
    change: dict[str, int] = {}
    current = hnsw.get("ef_search")
    if isinstance(current, int) and current < EF_SEARCH:
        change["ef_search"] = EF_SEARCH
    threshold = hnsw.get("sync_threshold")
    if isinstance(threshold, int) and threshold > SYNC_THRESHOLD:
        change.update(sync_threshold=SYNC_THRESHOLD, batch_size=SYNC_THRESHOLD)
    if change:
        collection.modify(configuration={"hnsw": change})


def reset_client_cache() -> None:
    """Forget cached Chroma systems so a reopen sees rows other processes wrote."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
