"""Duplicate stories: equal scores come back in one fixed order, whatever order HNSW gives."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SEEDS

from qa import get_engine
from qa.filters import Filters

QUESTION = "Who is the Prosecutor General of Azerbaijan?"


def test_duplicate_chunks_come_back_in_id_order(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    first = sorted(SEEDS.glob("*.txt"))[0]
    for n in range(8):  # eight copies of one article under unrelated names
        shutil.copyfile(first, folder / f"{(n * 5) % 8}-copy-{n}.txt")
    engine = get_engine(store=tmp_path / "store", seeds=folder)
    engine.ingest()
    retriever = engine.retriever
    dense = retriever.dense(retriever.embed_query(QUESTION), 16, Filters())
    assert len(dense) == 16
    best = [row for row in dense if row[1] == dense[0][1]]
    assert len(best) == 8  # every copy of the best chunk ties
    assert [row[0] for row in best] == sorted(row[0] for row in best)
    hits = retriever.retrieve(QUESTION, retriever.embed_query(QUESTION), 8)
    assert len({h.fused for h in hits}) == 1  # the copies of the best chunk tie after fusion too
    assert [h.chunk_id for h in hits] == sorted(h.chunk_id for h in hits)
