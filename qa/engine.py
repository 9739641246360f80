"""The engine: one store, one embedder, one retriever and one answerer, opened once, reused."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from qa.errors import UserError
from qa.filters import Filters
from qa.question_input import clean_question
from qa.reader import Reader
from qa.reader.features import Lexicon
from qa.reader.model import ReaderModel
from qa.retrieval import HybridRetriever
from qa.settings import Settings
from qa.store import Store, is_store_gone, open_store, reset_client_cache, store_writable
from qa.store_lock import ingest_lock, ingest_running, lock_path
from qa.store_state import StoreState
from qa.types import Answer, Answerer

if TYPE_CHECKING:  # ingest's modules (loader, chunker, manifest) load only for an ingest
    from qa.ingestion import IngestReport, ProgressCallback, Tagger
    from qa.reader.rerank import CrossEncoder

# A batch shaped like a question's candidate sentences (14 of ~40 words): warming up on it sizes
# onnxruntime's buffers for queries without growing them to chunk size (~150 MB of RSS).
_WARM_UP = [" ".join(["the minister said on monday that the company would report"] * 4)] * 14


class Engine:
    """Answers questions over one store; thread-safe (the TUI calls it from a worker)."""

    def __init__(
        self,
        settings: Settings,
        *,
        mode: str = "hybrid",
        reader_mode: str = "reader",
        model: ReaderModel | None = None,
        embedder: Any = None,
        tagger: Tagger | None = None,
    ):
        """`mode` is the retrieval mode, `reader_mode` one of `qa.reader.MODES`; `embedder` and
        `tagger` replace the MiniLM model and spaCy's NER (the bench's scale mode injects cheap
        stand-ins)."""
        self.settings = settings
        self.mode = mode
        self.reader_mode = reader_mode
        self.model = model
        self._store: Store | None = None
        self._embedder: Any = embedder
        self._embedder_loading: Future[Any] | None = None
        self._tagger = tagger
        self._retriever: HybridRetriever | None = None
        self._reader: Reader | None = None
        self._cross_encoder: CrossEncoder | None = None  # kept across store reopens
        self._lock = threading.RLock()
        self._has_rows = False
        self._seen: StoreState | None = None  # the store's state when this engine opened it

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._open(open_store(self.settings))
            assert self._store is not None
            return self._store

    def _open(self, store: Store) -> None:
        """Use `store` from now on; everything built from the old one is rebuilt on demand."""
        if self._store is not None and self._store is not store:
            self._store.close()
        self._store = store
        self._seen = store.read_state()
        self._retriever = None
        self._reader = None
        self._has_rows = False

    def _reopen(self) -> None:
        """Reopen the store so this process sees what another process wrote."""
        reset_client_cache()
        self._open(open_store(self.settings))

    def _freshen(self) -> StoreState | None:
        """Reopen if another process changed the store since we opened it; the state now."""
        state = self.store.read_state()
        if state != self._seen:
            self._reopen()
            state = self._seen
        return state

    @property
    def embedder(self) -> Any:
        with self._lock:
            if self._embedder is None:
                loading, self._embedder_loading = self._embedder_loading, None
                # a load that failed in the background raises here; the next call retries
                self._embedder = loading.result() if loading else self._new_embedder()
            return self._embedder

    def _new_embedder(self) -> Any:
        from qa.embedder import MiniLMEmbedder

        settings = self.settings
        return MiniLMEmbedder(settings.threads, settings.batch_size, settings.cache_dir)

    def _load_embedder_soon(self) -> None:
        """Start loading the model in a thread, to overlap opening the store: onnxruntime
        releases the GIL while it builds its session (~0.2 s), Chroma's import mostly holds it."""
        with self._lock:
            if self._embedder is not None or self._embedder_loading is not None:
                return
            loading: Future[Any] = Future()

            def load() -> None:
                try:
                    loading.set_result(self._new_embedder())
                except BaseException as exc:  # handed to whoever asks for the embedder
                    loading.set_exception(exc)

            self._embedder_loading = loading
            threading.Thread(target=load, name="newsqa-load-model", daemon=True).start()

    def ingest(
        self, *, rebuild: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Bring the store in line with the seeds folder (see `qa.ingestion.ingest`), holding the
        store's ingest lock: a second ingest waits for the first, then finds nothing to redo."""
        with self._lock:
            if rebuild and not self.settings.seeds_dir.is_dir():  # never drop it for nothing
                raise UserError(f"articles folder not found: {self.settings.seeds_dir}")
            settings = self.settings
            if not settings.chroma_url and not store_writable(settings.store_dir):
                raise UserError(
                    f"the store at {settings.store_dir} is read-only: ingest cannot write to it "
                    "(asking still works)"
                )
            lock = lock_path(settings.store_dir, settings.chroma_url, settings.collection)

            def waiting() -> None:
                if progress:
                    progress("waiting", 0, 0)

            with ingest_lock(lock, waiting):
                reset_client_cache()  # see what an ingest we waited for wrote
                self._open(open_store(self.settings, rebuild=rebuild))
                assert self._store is not None
                from qa.ingestion import ingest

                report = ingest(
                    self.settings,
                    self._store,
                    lambda: self.embedder,
                    progress=progress,
                    **({"tagger": self._tagger} if self._tagger else {}),
                )
                report.notes = self._store.notes + report.notes
                self._open(self._store)  # our own writes are no reason to reopen
            return report

    def ensure_ingested(self, progress: ProgressCallback | None = None) -> IngestReport | None:
        """Ingest the seeds if the store is empty; None if it already had chunks.

        A folder store made before the lexical index existed gets one, built from its rows
        (nothing is re-embedded, the articles folder is not read).
        """
        with self._lock:
            if self._has_rows:
                return None
            store = self.store
            if not self._finished_with_rows() and store.count() == 0:
                return self.ingest(progress=progress)
            index = store.postings
            if index is not None and index.synced is None and not store.read_only:
                lock = lock_path(self.settings.store_dir, None, self.settings.collection)
                with ingest_lock(lock, (lambda: progress("waiting", 0, 0)) if progress else None):
                    reset_client_cache()
                    self._open(open_store(self.settings))
                    assert self._store is not None
                    from qa.ingestion import index_store

                    index_store(self._store, progress)
                    self._open(self._store)
            self._has_rows = True  # count once, not per question (a reopen recounts)
            return None

    def _finished_with_rows(self) -> bool:
        """The stored state says a finished ingest left chunks: no need to count them, which
        makes a local Chroma load the whole vector index (~280 MB at 130k chunks) right away."""
        state = self._seen
        return bool(state and state.complete and state.generation and state.chunks)

    @property
    def retriever(self) -> HybridRetriever:
        with self._lock:
            if self._retriever is None:
                store = self.store
                self._retriever = HybridRetriever(store, self.embedder, store.lexical, self.mode)
            return self._retriever

    @property
    def cross_encoder(self) -> CrossEncoder | None:
        """The reranker when QA_RERANK is not off (its model is built on first use)."""
        with self._lock:
            if self._cross_encoder is None and self.settings.rerank != "off":
                from qa.reader.rerank import CrossEncoder

                self._cross_encoder = CrossEncoder(self.settings.cache_dir, self.settings.threads)
            return self._cross_encoder

    @property
    def reader(self) -> Reader:
        with self._lock:
            if self._reader is None:
                lexical = self.store.lexical
                self._reader = Reader(
                    Lexicon(lexical.idf, lexical.known),
                    self.model,
                    self.reader_mode,
                    self.cross_encoder,
                    cascade=self.settings.rerank == "auto",
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
        answerer: Answerer | None = None,
    ) -> Answer:
        """Answer `question`, searching for `query` (a follow-up's rewrite) if given.

        `focus` is the part of the query the answer must match (the rest is carried context);
        `answerer` reads the retrieved chunks instead of the extractive reader (same interface).
        """
        question = clean_question(question)
        self._load_embedder_soon()
        with self._lock:
            state = self._freshen()
            self.ensure_ingested()
            self._check_filters(filters)
            try:
                answer = self._answer(
                    question, query, focus, top_k, filters, prefer_files, answerer
                )
            except Exception as exc:
                if not is_store_gone(exc):
                    raise
                self._reopen()  # the collection went away under us (a rebuild): retry once
                state = self._seen
                answer = self._answer(
                    question, query, focus, top_k, filters, prefer_files, answerer
                )
            warnings = self._warnings(state)
            return replace(answer, warnings=warnings) if warnings else answer

    def _answer(
        self,
        question: str,
        query: str | None,
        focus: str | None,
        top_k: int | None,
        filters: Filters | None,
        prefer_files: frozenset[str],
        answerer: Answerer | None = None,
    ) -> Answer:
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
        return (answerer or self.reader).answer(question, query, hits, prefer_files, focus)

    def _check_filters(self, filters: Filters | None) -> None:
        """A filter that no stored article passes is the user's mistake, said as such."""
        if filters is None or filters.empty:
            return
        found = self.store.collection.get(where=filters.chroma_where(), limit=1, include=[])
        if not found["ids"]:
            raise UserError(f"no article in the store matches {filters.describe()}")

    def _warnings(self, state: StoreState | None) -> tuple[str, ...]:
        if state is None or state.complete:
            return ()
        if ingest_running(self.store.lock):
            return ("an ingest is writing to the store right now: answers may miss articles",)
        return (
            "the last ingest into the store did not finish: answers may miss articles; "
            "run `newsqa ingest` to complete it",
        )

    def warm_up(self) -> None:
        """Open the store, load the models and build the retriever before the first question."""
        self._load_embedder_soon()
        with self._lock:
            self.retriever.embed_query("warm up")
            self.embedder.embed(_WARM_UP)
            if self.reader.cross_encoder is not None:
                self.reader.cross_encoder.load()

    def status(self) -> dict[str, Any]:
        """Store location, articles, chunks, completeness and embedder: nothing time-varying."""
        from qa.model_files import MODEL_NAME

        with self._lock:
            state = self._freshen()
            store = self.store
            if state is None:  # a store from before states: count its files the slow way
                files = {str(m.get("file")) for _, m, _ in store.rows(include=["metadatas"])}
                state = StoreState(articles=len(files))
            # A finished ingest's own count; while one runs (or after one died) ask Chroma.
            chunks = state.chunks if state.complete and state.generation else store.count()
            return {
                "store": store.location,
                "mode": "server" if self.settings.chroma_url else "persistent",
                "collection": self.settings.collection,
                "seeds": str(self.settings.seeds_dir),
                "articles": state.articles,
                "chunks": chunks,
                "complete": state.complete,
                "ingest_running": ingest_running(store.lock),
                "generation": state.generation,
                "read_only": store.read_only,
                "embedder": MODEL_NAME,
            }
