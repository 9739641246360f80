"""The Chroma store: a persistent folder by default, or a Chroma server when a URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from qa.errors import UserError
from qa.model_files import MODEL_NAME
from qa.settings import Settings

_PAGE = 5000


@dataclass
class Store:
    """An open Chroma collection and the llama-index vector store wrapping it."""

    client: Any
    collection: Any
    vector_store: Any
    location: str

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


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _http_client(url: str, token: str | None) -> Any:
    import chromadb

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UserError(f"Chroma URL must look like http://host:port, got {url!r}")
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            headers=headers,
            settings=_chroma_settings(),
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises assorted connection errors
        raise UserError(f"cannot reach the Chroma server at {url}: {_reason(exc)}") from None
    return client


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
            metadata={"hnsw:space": "cosine", "embedder": MODEL_NAME},
        )
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"cannot open the store at {location}: {_reason(exc)}") from None
    embedder = (collection.metadata or {}).get("embedder")
    if embedder not in (None, MODEL_NAME):
        raise UserError(
            f"the store at {location} was built with embedder {embedder!r}; "
            "run `newsqa ingest --rebuild`"
        )
    return Store(client, collection, ChromaVectorStore(chroma_collection=collection), location)


def reset_client_cache() -> None:
    """Forget cached Chroma systems so a reopen sees rows other processes wrote."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
