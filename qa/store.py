"""The Chroma store: a persistent folder by default, or a Chroma server when a URL is set."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from qa.errors import UserError
from qa.model_files import MODEL_NAME
from qa.ner import NER_MODEL
from qa.settings import Settings

_PAGE = 500  # rows per read: 10x smaller peak memory than 5000 at the same speed
# Chroma's HNSW defaults (M=16, ef_construction=100, ef_search=100) find only ~80% of the true
# 16 nearest chunks for the dev questions in a 10k-article corpus: the seed articles sit far
# from the mass of other news, where greedy graph search misses them. These settings give
# ~99.7% recall@16 for ~2 s more per 10k-article ingest and ~0.5 ms more per query.
EF_SEARCH = 400
HNSW: dict[str, Any] = {
    "space": "cosine",
    "ef_construction": 200,
    "max_neighbors": 32,
    "ef_search": EF_SEARCH,
}


@dataclass
class Store:
    """An open Chroma collection and the llama-index vector store wrapping it."""

    client: Any
    collection: Any
    vector_store: Any
    location: str
    max_batch: int = 0  # the client's batch limit, asked once

    def count(self) -> int:
        return int(self.collection.count())

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


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def open_client(settings: Settings) -> tuple[Any, str]:
    """A Chroma client for the settings and a human-readable location."""
    if settings.chroma_url:
        return _http_client(settings.chroma_url, settings.chroma_token), settings.chroma_url
    import chromadb

    path = settings.store_dir
    if path.exists() and not path.is_dir():
        raise UserError(f"store path is not a folder: {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except Exception as exc:
        raise UserError(f"cannot open the store at {path}: {_reason(exc)}") from None
    return client, str(path)


def open_store(settings: Settings, *, rebuild: bool = False) -> Store:
    """Open (creating if needed) the collection; `rebuild` drops it first."""
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client, location = open_client(settings)
    try:
        if rebuild and settings.collection in [c.name for c in client.list_collections()]:
            client.delete_collection(settings.collection)
        collection = client.get_or_create_collection(
            settings.collection,
            embedding_function=None,  # never Chroma's default, which downloads a model
            metadata={"hnsw:space": "cosine", "embedder": MODEL_NAME, "entities": NER_MODEL},
            configuration={"hnsw": HNSW},
        )
        _raise_ef_search(collection)
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
    return Store(client, collection, ChromaVectorStore(chroma_collection=collection), location)


def _raise_ef_search(collection: Any) -> None:
    """Stores made with Chroma's default ef_search get ours (the one HNSW knob that can change
    after creation; it applies from the next time the index is loaded)."""
    import warnings

    with warnings.catch_warnings():  # "legacy embedding function config": ours is None
        warnings.simplefilter("ignore", DeprecationWarning)
        hnsw = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
    current = hnsw.get("ef_search")
    if isinstance(current, int) and current < EF_SEARCH:
        collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})


def reset_client_cache() -> None:
    """Forget cached Chroma systems so a reopen sees rows other processes wrote."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
