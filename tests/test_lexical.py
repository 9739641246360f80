"""The lexical indexes: the folder store's SQLite postings and the Chroma full-text search a server
client uses. Both against brute-force BM25 over the real seed chunks."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import chromadb
import numpy as np
import pytest
from conftest import copy_seeds

from qa.articles import load_articles
from qa.chunking import chunk_article
from qa.filters import Filters
from qa.ingestion import indexed
from qa.lexical.contains import ContainsIndex
from qa.lexical.postings import TOP_PER_TERM, IndexedChunk, PostingsIndex
from qa.store import _chroma_settings
from qa.text import terms

QUESTIONS = (
    "Who is the Prosecutor General of Azerbaijan?",
    "Bulbuloglu ambassador",
    "meeting of the prosecutors in Moscow",
    "How many people were detained?",
    "2021",
)


@pytest.fixture(scope="module")
def seed_chunks(tmp_path_factory: pytest.TempPathFactory) -> list[IndexedChunk]:
    seeds = copy_seeds(tmp_path_factory.mktemp("seeds"))
    out = []
    for article in load_articles(seeds).articles:
        chunks = chunk_article(article)
        out.extend(indexed(article, c, len(chunks)) for c in chunks)
    return out


def brute_bm25(chunks: list[IndexedChunk], query: str, average: float) -> list[tuple[str, float]]:
    """Okapi BM25 (k1 1.2, b 0.75) computed from scratch, for comparison."""
    counts = [Counter(terms(c.text)) for c in chunks]
    df = Counter(t for c in counts for t in c)
    n = len(chunks)
    scored = []
    for chunk, tf in zip(chunks, counts, strict=True):
        length = sum(tf.values())
        score = 0.0
        for t in set(terms(query)):
            if tf[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                norm = 1.2 * (1 - 0.75 + 0.75 * length / average)
                score += idf * tf[t] * 2.2 / (tf[t] + norm)
        if score > 0:
            scored.append((chunk.chunk_id, score))
    return sorted(scored, key=lambda x: (-x[1], x[0]))


def test_postings_rank_exactly_like_bm25(tmp_path: Path, seed_chunks: list[IndexedChunk]) -> None:
    index = PostingsIndex(tmp_path / "lex.sqlite3")
    index.set_average_length(seed_chunks)
    index.add(seed_chunks)
    assert index.size == len(seed_chunks) < TOP_PER_TERM  # every term's postings are read whole
    average = float(index._meta("average_length") or 0)
    assert average == pytest.approx(
        np.mean([sum(Counter(terms(c.text)).values()) for c in seed_chunks]), abs=1e-3
    )
    for question in QUESTIONS:
        got = index.search(question, 8, Filters())
        want = brute_bm25(seed_chunks, question, average)[:8]
        assert [c for c, _ in got] == [c for c, _ in want], question
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-3)
    assert index.known("bulbuloglu") and not index.known("zanzibar")
    assert index.idf("bulbuloglu") > index.idf("prosecutor") > 0


def test_postings_add_is_idempotent_and_delete_undoes_it(
    tmp_path: Path, seed_chunks: list[IndexedChunk]
) -> None:
    index = PostingsIndex(tmp_path / "lex.sqlite3")
    index.add(seed_chunks[:5])
    before = (index.size, index.idf("prosecutor"), index.search(QUESTIONS[0], 5, Filters()))
    index.add(seed_chunks)
    index.add(seed_chunks)  # a second add of the same ids changes nothing
    assert index.size == len(seed_chunks)
    index.delete([c.chunk_id for c in seed_chunks[5:]] + ["no-such-chunk"])
    after = (index.size, index.idf("prosecutor"), index.search(QUESTIONS[0], 5, Filters()))
    assert after == before
    reopened = PostingsIndex(tmp_path / "lex.sqlite3")  # it is all on disk
    assert reopened.search(QUESTIONS[0], 5, Filters()) == before[2]
    gone = seed_chunks[0].chunk_id
    index.delete([gone])
    assert gone not in {c for c, _ in index.search(seed_chunks[0].text, 50, Filters())}
    assert sorted(f for f, *_ in index.manifest()) == sorted(c.chunk_id for c in seed_chunks[1:5])


def test_postings_filters(tmp_path: Path, seed_chunks: list[IndexedChunk]) -> None:
    index = PostingsIndex(tmp_path / "lex.sqlite3")
    index.add(seed_chunks)
    by_id = {c.chunk_id: c for c in seed_chunks}
    one_file = next(c.file for c in reversed(seed_chunks) if c.date_int)
    for filters in (
        Filters(files=(one_file,)),
        Filters.build(since="2021-07-01"),
        Filters.build(until="2021-06-30"),
        Filters(files=(one_file,), since=20000101),
    ):
        got = index.search("prosecutor general meeting", 50, filters)
        assert got, filters
        assert all(filters.accepts(_meta(by_id[c])) for c, _ in got)
        every = [c for c, _ in index.search("prosecutor general meeting", 500, Filters())]
        allowed = [c for c in every if filters.accepts(_meta(by_id[c]))]
        assert [c for c, _ in got] == allowed  # the same order as unfiltered, less the rest


def _meta(chunk: IndexedChunk) -> dict[str, object]:
    return {"file": chunk.file, "date_int": chunk.date_int}


def test_chroma_full_text_search_ranks_by_bm25(
    tmp_path: Path, seed_chunks: list[IndexedChunk]
) -> None:
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=_chroma_settings())
    collection = client.create_collection("lexical", embedding_function=None)
    rng = np.random.default_rng(0)
    collection.add(
        ids=[c.chunk_id for c in seed_chunks],
        documents=[c.text for c in seed_chunks],
        embeddings=rng.normal(size=(len(seed_chunks), 8)).astype(np.float32),
        metadatas=[
            {"file": c.file, **({"date_int": c.date_int} if c.date_int else {})}
            for c in seed_chunks
        ],
    )
    index = ContainsIndex(collection, collection.count)
    # A rare name, in lower case as a user types it, is found in its capitalised form.
    hits = index.search("bulbuloglu", 3, Filters())
    assert hits and all("Bulbuloglu" in _text(seed_chunks, c) for c, _ in hits)
    # Ranked like BM25 over the same chunks, up to the document frequencies that substring
    # matches inflate ("azerbaijan" in "Azerbaijani"): the same top five, the best among the top 2.
    for question in QUESTIONS:
        got = [c for c, _ in index.search(question, 5, Filters())]
        want = [c for c, _ in brute_bm25(seed_chunks, question, 100.0)[:5]]
        assert len(set(got) & set(want)) >= min(4, len(want)) and got[0] in want[:2], question
    assert index.known("prosecutor") and not index.known("zanzibar")
    assert index.idf("bulbuloglu") > index.idf("prosecutor")
    one_file = seed_chunks[0].file
    filtered = index.search("prosecutor", 50, Filters(files=(one_file,)))
    assert filtered and {_file(seed_chunks, c) for c, _ in filtered} == {one_file}


def _text(chunks: list[IndexedChunk], chunk_id: str) -> str:
    return next(c.text for c in chunks if c.chunk_id == chunk_id)


def _file(chunks: list[IndexedChunk], chunk_id: str) -> str:
    return next(c.file for c in chunks if c.chunk_id == chunk_id)
