"""The cross-encoder: hash-checked deltas, a reproducible model, a cache, and a rerank that
moves the answering sentence above its topic neighbour."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa import UserError
from qa.cross_encoder_model import CONFIG_PATH, base_weights, built, fine_tuned, read_file
from qa.engine import Engine
from qa.model_files import model_files
from qa.reader.rerank import CrossEncoder
from qa.settings import Settings

QUESTION = "Who is the chief executive of the carmaker?"
ANSWER = "The carmaker's chief executive, Anna Berg, said sales would recover next year."
NEIGHBOUR = "Shares in the carmaker fell 4% after it warned that costs would cut profits."
OTHER = "The match ended 2-1 after a late goal from the substitute striker."


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> CrossEncoder:
    return CrossEncoder(tmp_path_factory.mktemp("cache"))


def _copy_files(tmp_path: Path) -> Path:
    config = tmp_path / CONFIG_PATH.name
    shutil.copyfile(CONFIG_PATH, config)
    shutil.copyfile(CONFIG_PATH.with_suffix(".bin"), config.with_suffix(".bin"))
    return config


def test_altered_weights_are_one_clear_error(tmp_path: Path) -> None:
    config = _copy_files(tmp_path)
    assert read_file(config).sha256 == read_file().sha256
    blob = bytearray(config.with_suffix(".bin").read_bytes())
    blob[100] ^= 0xFF
    config.with_suffix(".bin").write_bytes(bytes(blob))
    with pytest.raises(UserError) as error:
        read_file(config)
    message = str(error.value)
    assert "sha256" in message and "cross_encoder.bin" in message and "\n" not in message


def test_a_bad_cascade_entry_is_one_clear_error(tmp_path: Path) -> None:
    config = _copy_files(tmp_path)
    settings = json.loads(config.read_text(encoding="utf-8"))
    assert read_file(config).cascade == read_file().cascade is not None
    settings["cascade"] = {"gate": 0.7, "top": 2}  # no refusal threshold
    config.write_text(json.dumps(settings), encoding="utf-8")
    with pytest.raises(UserError, match="bad cascade entry") as error:
        read_file(config)
    assert "\n" not in str(error.value)
    del settings["cascade"]  # an uncalibrated file: QA_RERANK=auto leaves every answer as it is
    config.write_text(json.dumps(settings), encoding="utf-8")
    assert read_file(config).cascade is None


def test_missing_weights_are_one_clear_error(tmp_path: Path) -> None:
    config = _copy_files(tmp_path)
    config.with_suffix(".bin").unlink()
    with pytest.raises(UserError, match="cross-encoder file unreadable") as error:
        read_file(config)
    assert "\n" not in str(error.value)


def test_deltas_are_applied_and_the_model_is_reproducible() -> None:
    import onnx
    from onnx import numpy_helper

    shipped = model_files()[0].read_bytes()
    deltas = read_file()
    tuned_bytes = fine_tuned(shipped, deltas)
    base, tuned = base_weights(shipped), base_weights(tuned_bytes)
    name = "encoder.layer.3.attention.self.query"
    # The bias is replaced; the weight is the shipped one dequantized plus the change u · v.
    np.testing.assert_array_equal(tuned[name + ".bias"], deltas.arrays[name + ".bias"])
    assert not np.allclose(tuned[name + ".bias"], base[name + ".bias"], atol=1e-4)
    graph = onnx.load_from_string(tuned_bytes).graph
    inits = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    u, v = (deltas.arrays[f"{name}.weight.{part}"].astype(np.float32) for part in ("u", "v"))
    weight = inits[f"{name}.weight.tuned"]
    np.testing.assert_allclose(weight, base[name + ".weight"] + u @ v, rtol=0, atol=1e-6)
    assert np.abs(weight - base[name + ".weight"]).max() > 1e-3  # the change is really there
    tuned_weights = [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    assert len(tuned_weights) == 36
    int8 = [i.name for i in graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert len(int8) == 2  # only the embedding tables stay int8
    model = built(shipped, deltas)
    assert hashlib.sha256(model).hexdigest() == deltas.converted_sha256


def test_cache_holds_the_pinned_model(tmp_path: Path, cross_encoder: CrossEncoder) -> None:
    first = CrossEncoder(tmp_path)
    cached = tmp_path / f"cross-encoder-{read_file().fingerprint}.onnx"
    assert not cached.exists()  # built on first use
    first.load()
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == read_file().converted_sha256
    cached.write_bytes(b"not a model")  # a damaged cache is rebuilt, not run
    second = CrossEncoder(tmp_path)
    second.load()
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == read_file().converted_sha256
    texts = [ANSWER, NEIGHBOUR]
    np.testing.assert_allclose(first.scores(QUESTION, texts), second.scores(QUESTION, texts))
    np.testing.assert_allclose(
        first.scores(QUESTION, texts), cross_encoder.scores(QUESTION, texts), atol=1e-4
    )


def test_answering_sentence_outscores_its_topic_neighbour(cross_encoder: CrossEncoder) -> None:
    answer, neighbour, other = cross_encoder.scores(QUESTION, [ANSWER, NEIGHBOUR, OTHER])
    assert answer > max(neighbour, other) + 2.0
    # Batched or alone, a pair gets the same score (padding is masked).
    alone = cross_encoder.scores(QUESTION, [NEIGHBOUR])[0]
    assert alone == pytest.approx(neighbour, abs=1e-3)


def test_rerank_reorders_only_the_top_few(cross_encoder: CrossEncoder) -> None:
    top = cross_encoder.file.top
    texts = [NEIGHBOUR, ANSWER] + [OTHER] * (top + 2)
    logits = np.linspace(1.0, 0.0, len(texts))  # the ranker put the neighbour first
    order = cross_encoder.rerank(QUESTION, texts, logits).order
    assert order[0] == 1 and sorted(order) == list(range(len(texts)))
    assert order[top:] == list(range(top, len(texts)))
    assert cross_encoder.rerank(QUESTION, [ANSWER], logits[:1]).order == [0]


def test_null_score_tells_an_answering_sentence_from_none(cross_encoder: CrossEncoder) -> None:
    """P(answerable) is above the refusal threshold when the answer is among the candidates,
    below it when only its topic neighbour is."""
    question = "How much profit did Nordwagen make in 2004?"
    answer = "Nordwagen made a profit of $1.2bn in 2004, up from $900m a year earlier."
    neighbour = "Shares in Nordwagen fell 4% after it warned that costs would cut profits."
    with_answer = cross_encoder.rerank(question, [neighbour, answer], np.zeros(2)).answerable
    without = cross_encoder.rerank(question, [neighbour, OTHER], np.zeros(2)).answerable
    threshold = cross_encoder.file.refusal_threshold
    assert with_answer is not None and without is not None and threshold is not None
    assert without < threshold < with_answer


def test_rerank_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env().rerank == "off"  # opt-in: see README (speed, year questions)
    for value, mode in (("on", "on"), ("1", "on"), ("AUTO", "auto"), ("off", "off"), ("no", "off")):
        monkeypatch.setenv("QA_RERANK", value)
        assert Settings.from_env().rerank == mode
    monkeypatch.setenv("QA_RERANK", "sometimes")
    with pytest.raises(UserError, match="QA_RERANK must be off, on or auto, got 'sometimes'"):
        Settings.from_env()


def test_cascade_steps_in_only_where_the_ranker_is_unsure(seeded: Engine) -> None:
    """QA_RERANK=auto: a confident ranker's answer stands as it is; an unsure one is rescored
    and the cross-encoder's own P(answerable) decides."""
    cascade = read_file().cascade
    assert cascade is not None and 0 < cascade.refusal_threshold < cascade.gate < 1
    off = Engine(replace(seeded.settings, rerank="off"))
    auto = Engine(replace(seeded.settings, rerank="auto"))
    sure = "What did Krasnov say the constructive dialogue will continue to do?"
    plain, cascaded = off.ask(sure), auto.ask(sure)
    assert plain.confidence >= cascade.gate
    assert (cascaded.text, cascaded.confidence) == (plain.text, plain.confidence)
    encoder = auto.reader.cross_encoder
    assert encoder is not None and not encoder.loaded  # a sure ranker never builds the model
    unsure = "What did the head of the Sahara Trading Company earn in 1997?"
    plain, cascaded = off.ask(unsure), auto.ask(unsure)
    assert encoder.loaded
    assert plain.confidence < cascade.gate
    assert cascaded.confidence != plain.confidence  # the cross-encoder's null score decides
    assert cascaded.found is (cascaded.confidence >= cascade.refusal_threshold)


def test_warm_up_builds_the_cross_encoder_only_when_it_may_step_in(seeded: Engine) -> None:
    auto = Engine(replace(seeded.settings, rerank="auto"))
    auto.warm_up()  # the TUI's: the first unsure question must not pay for the build
    assert auto.reader.cross_encoder is not None and auto.reader.cross_encoder.loaded
    off = Engine(replace(seeded.settings, rerank="off"))
    off.warm_up()
    assert off.reader.cross_encoder is None


def test_unwritable_cache_still_reranks(
    tmp_path: Path, cross_encoder: CrossEncoder, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    uncached = CrossEncoder(blocked)
    assert "cross-encoder model not cached" not in caplog.text  # built on first use, not before
    texts = [ANSWER, NEIGHBOUR]
    with caplog.at_level("WARNING"):
        scores = uncached.scores(QUESTION, texts)
    assert "cross-encoder model not cached" in caplog.text and str(blocked) in caplog.text
    np.testing.assert_allclose(scores, cross_encoder.scores(QUESTION, texts), atol=1e-4)


def test_the_built_cross_encoder_outlives_a_store_reopen(tmp_path: Path, seeded: Engine) -> None:
    """Another process's ingest makes the engine reopen the store; the reranker's model, which
    takes seconds to build, is kept rather than built again."""
    shutil.copytree(seeded.settings.store_dir, tmp_path / "store")
    shutil.copytree(seeded.settings.seeds_dir, tmp_path / "seeds")
    settings = replace(
        seeded.settings, store_dir=tmp_path / "store", seeds_dir=tmp_path / "seeds", rerank="on"
    )
    engine = Engine(settings)
    engine.warm_up()
    encoder = engine.reader.cross_encoder
    assert encoder is not None and encoder.loaded
    reader = engine.reader
    (tmp_path / "seeds" / "carmaker.txt").write_text(
        f"Carmaker names a new chief\n\n{ANSWER} {NEIGHBOUR}\n", encoding="utf-8"
    )
    Engine(settings).ingest()  # a second engine writes: the first sees a changed store
    answer = engine.ask(QUESTION)
    assert engine.reader is not reader  # the store was reopened and the reader rebuilt
    assert engine.reader.cross_encoder is encoder and encoder.loaded
    assert "Anna Berg" in answer.text and answer.sources[0].file == "carmaker.txt"
