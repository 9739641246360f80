"""The MiniLM embedder as a llama-index embedding model, for llama-index pipelines (the bench's
naive baseline); importing this module imports llama-index, which the query path never does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from qa.embedder import MiniLMEmbedder
from qa.model_files import MODEL_NAME


class MiniLMEmbedding(BaseEmbedding):
    """`qa.embedder.MiniLMEmbedder` behind llama-index's `BaseEmbedding` interface."""

    _embedder: Any = PrivateAttr()

    def __init__(
        self, threads: int = 2, batch_size: int = 32, model_cache: Path | None = None, **kwargs: Any
    ) -> None:
        super().__init__(model_name=MODEL_NAME, embed_batch_size=batch_size, **kwargs)
        self._embedder = MiniLMEmbedder(threads, batch_size, model_cache)

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    def embed(self, texts: list[str]) -> Any:
        return self._embedder.embed(texts)

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._embedder.embed([query])[0]]

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self._embedder.embed([text])[0]]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._embedder.embed(texts)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


def quiet_llama_index(embedder: BaseEmbedding) -> None:
    """Make sure nothing in llama-index ever reaches for OpenAI: a mock LLM and our embedder."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms import MockLLM

    LlamaSettings.llm = MockLLM()
    LlamaSettings.embed_model = embedder
