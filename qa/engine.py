"""The engine: one store, one embedder, one retriever and one answerer, opened once, reused."""

from __future__ import annotations

import threading
from typing import Any

from qa.errors import UserError
from qa.filters import Filters
from qa.ingestion import IngestReport, ProgressCallback, ingest
from qa.question_input import clean_question
from qa.reader import Reader
from qa.reader.features import Lexicon
from qa.reader.model import ReaderModel
from qa.retrieval import HybridRetriever
from qa.settings import Settings
from qa.store import Store, open_store
from qa.types import Answer


def _quiet_llama_index(embedder: Any) -> None:
    """Make sure nothing in llama-index ever reaches for OpenAI."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms import MockLLM

    LlamaSettings.llm = MockLLM()
    LlamaSettings.embed_model = embedder


class Engine:
    """Answers questions over one store; thread-safe (the TUI calls it from a worker)."""

    def __init__(
        self,
        settings: Settings,
        *,
        mode: str = "hybrid",
        reader_mode: str = "reader",
        model: ReaderModel | None = None,
    ):
        """`mode` is the retrieval mode, `reader_mode` one of `qa.reader.MODES`."""
        self.settings = settings
        self.mode = mode
        self.reader_mode = reader_mode
        self.model = model
        self._store: Store | None = None
        self._embedder: Any = None
        self._retriever: HybridRetriever | None = None
        self._reader: Reader | None = None
        self._lock = threading.RLock()
        self._has_rows = False

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    @property
    def embedder(self) -> Any:
        with self._lock:
            if self._embedder is None:
                from qa.embedder import MiniLMEmbedding

                self._embedder = MiniLMEmbedding(
                    threads=self.settings.threads, batch_size=self.settings.batch_size
                )
                _quiet_llama_index(self._embedder)
            return self._embedder

    def ingest(
        self, *, rebuild: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Bring the store in line with the seeds folder (see `qa.ingestion.ingest`)."""
        with self._lock:
            if rebuild:
                if not self.settings.seeds_dir.is_dir():  # never drop the store for nothing
                    raise UserError(f"articles folder not found: {self.settings.seeds_dir}")
                self._store = open_store(self.settings, rebuild=True)
            report = ingest(self.settings, self.store, lambda: self.embedder, progress=progress)
            self._retriever = None
            self._reader = None
            self._has_rows = False  # recount on the next question
            return report

    def ensure_ingested(self, progress: ProgressCallback | None = None) -> IngestReport | None:
        """Ingest the seeds if the store is empty; None if it already had chunks."""
        with self._lock:
            if self._has_rows or self.store.count() > 0:
                self._has_rows = (
                    True  # a store never empties by itself: count once, not per question
                )
                return None
            return self.ingest(progress=progress)

    @property
    def retriever(self) -> HybridRetriever:
        with self._lock:
            if self._retriever is None:
                self._retriever = HybridRetriever(self.store, self.embedder, self.mode)
            return self._retriever

    @property
    def reader(self) -> Reader:
        with self._lock:
            if self._reader is None:
                bm25 = self.retriever.bm25
                self._reader = Reader(
                    Lexicon(bm25.term_idf, bm25.idf.__contains__),
                    self.model,
                    self.reader_mode,
                )
            return self._reader

    def ask(
        self,
        question: str,
        *,
        query: str | None = None,
        focus: str | None = None,
        top_k: int | None = None,
        filters: Filters | None = None,
        prefer_files: frozenset[str] = frozenset(),
    ) -> Answer:
        """Answer `question`, searching for `query` (a follow-up's rewrite) if given.

        `focus` is the part of the query the answer must match (the rest is carried context).
        """
        question = clean_question(question)
        with self._lock:
            self.ensure_ingested()
            query = clean_question(query) if query else question
            retriever = self.retriever
            k = top_k or self.settings.top_k
            vector = retriever.embed_query(query)
            hits = retriever.retrieve(query, vector, k, filters)
            if focus and focus != query:  # a follow-up: its own words first, then the context's
                own_vector = retriever.embed_query(focus)
                own = retriever.retrieve(focus, own_vector, k, filters)
                seen = {h.chunk_id for h in own}
                hits = own[: k // 2] + [h for h in hits if h.chunk_id not in seen] + own[k // 2 :]
                hits = list({h.chunk_id: h for h in hits}.values())[:k]
            return self.reader.answer(question, query, hits, prefer_files, focus)

    def warm_up(self) -> None:
        """Open the store, load the model and build the retriever now, not on the first question."""
        with self._lock:
            retriever = self.retriever
            # A batch shaped like a question's candidate sentences: it sizes onnxruntime's buffers
            # for queries without growing them to chunk size (which would cost ~150 MB of RSS).
            sample = [" ".join(text.split()[:40]) for text in retriever.texts[:14]]
            self.embedder.embed(sample or ["warm up"])

    def status(self) -> dict[str, Any]:
        """Store location, articles, chunks, embedder: nothing time-varying."""
        from qa.model_files import MODEL_NAME

        with self._lock:
            files = {str(m.get("file")) for _, m, _ in self.store.rows(include=["metadatas"])}
            return {
                "store": self.store.location,
                "mode": "server" if self.settings.chroma_url else "persistent",
                "collection": self.settings.collection,
                "seeds": str(self.settings.seeds_dir),
                "articles": len(files),
                "chunks": self.store.count(),
                "embedder": MODEL_NAME,
            }
