"""The embedder's int8 rewrite: pinned bytes, weights kept int8, same vectors, safe cache."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.embedder import MiniLMEmbedder
from qa.int8_model import CONVERTED_NAME, CONVERTED_SHA256, cached_model, convert
from qa.model_files import model_files

TEXTS = [
    "Who is the chief executive of the carmaker?",
    "Shares in the airline fell 4% after it warned that fuel costs would cut profits.",
    "The match ended 2-1 after a late goal from the substitute striker.",
]


@pytest.fixture(scope="module")
def shipped() -> bytes:
    return model_files()[0].read_bytes()


def test_rewrite_is_deterministic_and_keeps_weights_int8(shipped: bytes) -> None:
    import onnx
    from onnx import numpy_helper

    converted = convert(shipped)
    assert hashlib.sha256(converted).hexdigest() == CONVERTED_SHA256
    graph = onnx.load_from_string(converted).graph
    sizes: dict[str, int] = {}
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        sizes[str(array.dtype)] = sizes.get(str(array.dtype), 0) + array.nbytes
    assert sizes["uint8"] + sizes["int8"] > 22_000_000  # every weight, one byte each
    assert sizes["float32"] < 2_000_000  # scales and layer norms only, no float weight copies
    ops = [node.op_type for node in graph.node]
    assert ops.count("MatMulNBits") == 36 and "Cast" in ops


def test_int8_session_gives_the_float_paths_vectors(tmp_path: Path) -> None:
    int8 = MiniLMEmbedder(model_cache=tmp_path)
    floating = MiniLMEmbedder()
    assert int8.model_path == tmp_path / CONVERTED_NAME
    assert floating.model_path == model_files()[0]
    a, b = int8.embed(TEXTS), floating.embed(TEXTS)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.999
    assert not np.allclose(a, b, atol=1e-6)  # really the other kernel, not the same session
    # nearest neighbours agree: each text's own vector is the other path's best match
    assert list((a @ b.T).argmax(axis=1)) == [0, 1, 2]


def test_a_damaged_cached_file_is_written_again(tmp_path: Path, shipped: bytes) -> None:
    (tmp_path / CONVERTED_NAME).write_bytes(b"not a model")
    path = cached_model(shipped, tmp_path)
    assert path == tmp_path / CONVERTED_NAME
    assert hashlib.sha256(path.read_bytes()).hexdigest() == CONVERTED_SHA256
    assert [p.name for p in tmp_path.iterdir()] == [CONVERTED_NAME]  # no temporary left


def test_an_unwritable_cache_falls_back_to_the_shipped_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="qa.int8_model"):
        embedder = MiniLMEmbedder(model_cache=blocked / "cache")
    assert embedder.model_path == model_files()[0]
    assert "cannot write" in caplog.text and "float path" in caplog.text
    vectors = embedder.embed(TEXTS[:1])
    assert vectors.shape == (1, 384) and abs(float(np.linalg.norm(vectors[0])) - 1) < 1e-4


def test_a_rewrite_with_other_bytes_is_not_used(
    tmp_path: Path,
    shipped: bytes,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("qa.int8_model.CONVERTED_SHA256", "0" * 64)
    with caplog.at_level(logging.WARNING, logger="qa.int8_model"):
        assert cached_model(shipped, tmp_path) is None
    assert "expected " + "0" * 64 in caplog.text
    assert not list(tmp_path.iterdir())


def test_the_cache_folder_comes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.settings import Settings

    monkeypatch.delenv("QA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Settings.from_env().cache_dir == tmp_path / "xdg" / "newsqa"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert Settings.from_env().cache_dir == Path.home() / ".cache" / "newsqa"
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "mine"))
    assert Settings.from_env().cache_dir == tmp_path / "mine"


def test_the_engine_embeds_with_the_int8_model_from_its_cache(seeded: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    from qa.engine import Engine

    engine = Engine(replace(seeded.settings, cache_dir=tmp_path / "cache"))
    assert "Bulbuloglu" in engine.ask("Who is Bulbuloglu?").text
    assert engine.embedder.model_path == tmp_path / "cache" / CONVERTED_NAME
