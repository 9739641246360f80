"""The cross-encoder's model: the shipped MiniLM with fine-tuned weight deltas.

`qa/data/cross_encoder.bin` holds what fine-tuning changed (written by
`python -m qa.tools.train_cross_encoder`): for each of the 36 weight matrices a rank-32 product
u · v added to the shipped weight, and new values for the encoder's biases and layer norms, all
float16. `cross_encoder.json` gives each array's name, shape and offset, the blob's sha256, the
head on [CLS], the null score and its refusal threshold, and the sha256 of the model built from
them. The embeddings are the shipped ones.
Each weight matrix is rebuilt in float as it was fine-tuned (shipped int8 value dequantized plus
u · v); qa.int8_model's rewrite keeps the embedding tables int8.
Takes the shipped model's bytes, gives a model file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import UserError
from qa.int8_model import convert, dequantizer, drop_unused

DATA_DIR = Path(__file__).resolve().parent / "data"
CONFIG_PATH = DATA_DIR / "cross_encoder.json"
PREFIX = "inner."  # the shipped graph's parameter names start with it


@dataclass(frozen=True)
class Cascade:
    """When the cross-encoder steps in (QA_RERANK=auto): only where the ranker is unsure."""

    gate: float  # the ranker's own answer stands when its P(answerable) is at least this
    top: int  # else the cross-encoder rescores this many of the ranker's best
    refusal_threshold: float  # and refuses below this P(answerable) of its own (calibrated)


@dataclass(frozen=True)
class CrossEncoderFile:
    """The fine-tuned deltas, the [CLS] head and how the reranker uses them."""

    arrays: dict[str, np.ndarray]  # parameter name → value (…weight.u / …weight.v: the factors)
    head_weight: np.ndarray  # (384,)
    head_bias: float
    top: int  # how many of the ranker's best candidates are rescored
    ranker_weight: float  # score = cross-encoder score + ranker_weight × ranker logit
    max_tokens: int  # (question, sentence) pairs are truncated to this many tokens
    sha256: str  # of the blob
    converted_sha256: str  # of the model `built` makes from these deltas
    null_logit: float | None = None  # the learnt score of "none of these answers", if trained
    refusal_threshold: float | None = None  # refuse below this P(answerable) (calibrated)
    cascade: Cascade | None = None  # how QA_RERANK=auto uses it, if calibrated

    @property
    def fingerprint(self) -> str:
        return self.sha256[:16]


def read_file(config_path: Path = CONFIG_PATH) -> CrossEncoderFile:
    """The shipped deltas; a one-line UserError when a file is missing or its hash is wrong."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        blob_path = config_path.with_name(config["blob"])
        blob = blob_path.read_bytes()
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"cross-encoder file unreadable: {config_path} ({exc})") from None
    actual = hashlib.sha256(blob).hexdigest()
    if actual != config["sha256"]:
        raise UserError(
            f"cross-encoder weights {blob_path} have sha256 {actual}, expected "
            f"{config['sha256']}; reinstall newsqa"
        )
    values = np.frombuffer(blob, dtype="<f2")
    arrays = {
        name: values[offset : offset + int(np.prod(shape))].astype(np.float32).reshape(shape)
        for name, shape, offset in config["arrays"]
    }
    return CrossEncoderFile(
        arrays,
        np.asarray(config["head_weight"], dtype=np.float32),
        float(config["head_bias"]),
        int(config["top"]),
        float(config["ranker_weight"]),
        int(config["max_tokens"]),
        actual,
        str(config.get("converted_sha256", "")),
        _optional_float(config.get("null_logit")),
        _optional_float(config.get("refusal_threshold")),
        _cascade(config.get("cascade")),
    )


def _cascade(value: Any) -> Cascade | None:
    if value is None:
        return None
    try:
        return Cascade(float(value["gate"]), int(value["top"]), float(value["refusal_threshold"]))
    except (TypeError, KeyError, ValueError) as exc:
        raise UserError(f"cross-encoder file: bad cascade entry {value!r} ({exc})") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def blob_of(arrays: dict[str, np.ndarray]) -> tuple[bytes, list[tuple[str, list[int], int]]]:
    """`arrays` as one float16 blob, with each one's (name, shape, offset) in sorted name order."""
    layout: list[tuple[str, list[int], int]] = []
    parts: list[bytes] = []
    offset = 0
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name], dtype="<f2")
        layout.append((name, list(value.shape), offset))
        parts.append(value.tobytes())
        offset += value.size
    return b"".join(parts), layout


def _graph_weights(model: Any) -> dict[str, tuple[str, str, Any]]:
    """Parameter name of each int8 weight → (int8 initializer, scale initializer, its MatMul).

    A weight is named after the bias that the Add right after its MatMul adds.
    """
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    dequantized = dequantizer(graph)
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    found: dict[str, tuple[str, str, Any]] = {}
    for node in graph.node:
        if node.op_type != "MatMul" or not (pair := dequantized(node.input[1])):
            continue
        weight, scale = pair
        adds = [n for n in consumers.get(node.output[0], []) if n.op_type == "Add"]
        bias = next((x for n in adds for x in n.input if x in initializers), None)
        if bias is None or not bias.endswith(".bias"):
            continue
        found[bias[len(PREFIX) : -len(".bias")] + ".weight"] = (weight, scale, node)
    return found


def base_weights(model_bytes: bytes) -> dict[str, np.ndarray]:
    """Every parameter of the shipped model as float32, by name (int8 weights dequantized)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(model_bytes)
    initializers = {init.name: init for init in model.graph.initializer}
    out = {
        name[len(PREFIX) :]: numpy_helper.to_array(init).astype(np.float32)
        for name, init in initializers.items()
        if name.startswith(PREFIX)
        and init.data_type == onnx.TensorProto.FLOAT
        and not name.endswith("_scale")
    }
    for name, (weight, scale, _) in _graph_weights(model).items():
        q = numpy_helper.to_array(initializers[weight]).astype(np.float32)
        out[name] = q * numpy_helper.to_array(initializers[scale]).reshape(1, -1)
    for node in model.graph.node:  # the embedding tables: Mul(Cast(int8), per-row scale)
        if node.op_type == "Mul" and node.output[0].startswith(PREFIX):
            q_name = node.output[0] + "_q"
            scale_name = next((x for x in node.input if x in initializers), None)
            if q_name in initializers and scale_name is not None:
                q = numpy_helper.to_array(initializers[q_name]).astype(np.float32)
                out[node.output[0][len(PREFIX) :]] = q * numpy_helper.to_array(
                    initializers[scale_name]
                )
    return out


def fine_tuned(model_bytes: bytes, deltas: CrossEncoderFile) -> bytes:
    """The shipped model with `deltas` applied: each int8 weight becomes the float weight it was
    fine-tuned as, its dequantized value plus u · v (re-quantizing that to int8 rounds most of
    the change away: bbc_dev top-1 0.79 → 0.76); biases and layer norms are replaced."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    weights = _graph_weights(model)
    used = 0
    for name, value in deltas.arrays.items():
        if name.endswith(".weight.u"):
            continue
        if name.endswith(".weight.v"):
            weight_name = name[: -len(".v")]
            if weight_name not in weights:
                raise UserError(f"cross-encoder weight {weight_name} is not in the shipped model")
            q_name, scale_name, matmul = weights[weight_name]
            q = numpy_helper.to_array(initializers[q_name]).astype(np.float32)
            scale = numpy_helper.to_array(initializers[scale_name]).reshape(1, -1)
            change = deltas.arrays[weight_name + ".u"].astype(np.float32) @ value.astype(np.float32)
            tuned = f"{weight_name}.tuned"
            graph.initializer.append(numpy_helper.from_array(q * scale + change, tuned))
            matmul.input[1] = tuned
        elif PREFIX + name in initializers:
            init = initializers[PREFIX + name]
            init.CopyFrom(numpy_helper.from_array(value.astype(np.float32), init.name))
        else:
            raise UserError(f"cross-encoder parameter {name} is not in the shipped model")
        used += 1
    if not used:
        raise UserError("cross-encoder file holds no parameters")
    drop_unused(graph, list(graph.node))
    return bytes(model.SerializeToString())


def built(model_bytes: bytes, deltas: CrossEncoderFile) -> bytes:
    """The model the reranker runs: `fine_tuned`, its embedding tables kept int8 by
    qa.int8_model's rewrite (its weights stay float: ~37 % faster on these CPUs than int8 with
    the change as a side branch). Raises ConversionError where the rewrite does not apply."""
    return convert(fine_tuned(model_bytes, deltas), weight_matmuls=0)
