"""Sentence-aware chunks of an article body, each with exact character offsets into the file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa.articles import Article


@dataclass(frozen=True)
class Chunk:
    """`article.text[start:end] == text`; `index` is its position in the article."""

    chunk_id: str
    index: int
    text: str
    start: int
    end: int


@lru_cache(maxsize=4)
def _splitter(chunk_tokens: int, overlap: int) -> Any:
    from llama_index.core.node_parser import SentenceSplitter

    from qa.model_files import load_tokenizer

    tokenizer = load_tokenizer()

    def count(text: str) -> list[int]:
        return list(tokenizer.encode(text, add_special_tokens=False).ids)

    return SentenceSplitter(
        chunk_size=chunk_tokens, chunk_overlap=overlap, tokenizer=count, include_metadata=False
    )


def chunk_id(article: Article, index: int) -> str:
    """Ids carry the content hash, so an edited article never collides with its old chunks."""
    return f"{article.doc_id}-{article.content_hash[:16]}-{index:04d}"


def chunk_article(article: Article, chunk_tokens: int = 192, overlap: int = 24) -> list[Chunk]:
    """Split the body with llama-index's SentenceSplitter and map every chunk back to the file."""
    from llama_index.core import Document

    body = article.body
    nodes = _splitter(chunk_tokens, overlap).get_nodes_from_documents([Document(text=body)])
    chunks: list[Chunk] = []
    cursor = 0
    for node in nodes:
        text = node.get_content()
        if not text.strip():  # an empty body, or a split that kept only whitespace
            continue
        start = node.start_char_idx
        if start is None or body[start : start + len(text)] != text:
            start = body.find(text, max(0, cursor - len(text)))
            if start < 0:
                start = body.find(text)
        if start < 0:  # the splitter changed the text: never store a quote we cannot locate
            raise ValueError(f"chunk of {article.file} not found verbatim in the article")
        cursor = start + len(text)
        file_start = article.body_start + start
        chunks.append(
            Chunk(
                chunk_id(article, len(chunks)),
                len(chunks),
                text,
                file_start,
                file_start + len(text),
            )
        )
    return chunks
