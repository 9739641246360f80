"""The embedder's model with its int8 weights kept int8 by onnxruntime, written once to a cache.

The shipped model stores each weight as int8 with a float scale (Cast → Mul). onnxruntime folds
those into float32 copies at load, so a session holds ~90 MB for 22 MB of weights. This rewrite
keeps them int8: each weight MatMul becomes a MatMulNBits (8 bits, the same per-column scales,
zero point 128), and the word-embedding table is gathered row by row before it is dequantized.
Same weights; onnxruntime's int8 kernel quantizes activations per block, so embeddings differ
from the float path by a cosine of ~1e-4. Takes the shipped model's bytes, gives a model file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

BLOCK_SIZE = 32  # activations are quantized per block of 32 inputs (smaller: closer to float)
ACCURACY_LEVEL = 4  # onnxruntime's int8 compute for MatMulNBits
CONVERTED_NAME = "all-MiniLM-L6-v2-int8-matmulnbits.onnx"
# sha256 of the rewrite of MODEL_SHA256's file by this code with onnx 1.23.2 (pyproject pins it)
CONVERTED_SHA256 = "4a206f0954f90cd8551a50fc1fd29e3a6bea95052cd305a52e901b203ab25c40"
_WEIGHT_MATMULS = 36  # 6 layers × (query, key, value, output, two feed-forward)

log = logging.getLogger(__name__)


class ConversionError(Exception):
    """The model's graph is not the shape this rewrite knows."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dequantizer(graph: Any) -> Callable[[str], tuple[str, str] | None]:
    """For `graph`: (int8 initializer, scale initializer) if a value is Mul(Cast(int8), scale)."""
    from onnx import TensorProto

    initializers = {init.name: init for init in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}

    def dequantized(name: str) -> tuple[str, str] | None:
        mul = producer.get(name)
        if mul is None or mul.op_type != "Mul":
            return None
        casts = [producer[x] for x in mul.input if x in producer]
        scales = [x for x in mul.input if x in initializers]
        if len(casts) != 1 or len(scales) != 1 or casts[0].op_type != "Cast":
            return None
        weight = casts[0].input[0]
        if weight not in initializers or initializers[weight].data_type != TensorProto.INT8:
            return None
        return weight, scales[0]

    return dequantized


def convert(model_bytes: bytes, weight_matmuls: int = _WEIGHT_MATMULS) -> bytes:
    """The rewritten model (see the module docstring), serialized; `weight_matmuls`: how many
    int8 weight MatMuls it must find (0 for a model whose weights are already float)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    dequantized = dequantizer(graph)

    replacements: dict[int, list[Any]] = {}
    added: list[Any] = []
    for node in graph.node:
        if node.op_type == "MatMul" and (found := dequantized(node.input[1])):
            weight = numpy_helper.to_array(initializers[found[0]])
            scale = numpy_helper.to_array(initializers[found[1]]).reshape(-1)
            k, n = weight.shape
            if scale.shape != (n,) or k % BLOCK_SIZE:
                raise ConversionError(f"{node.name}: scale {scale.shape} for weight {weight.shape}")
            blocks = k // BLOCK_SIZE
            packed = (weight.astype(np.int16) + 128).astype(np.uint8).T.reshape(n, blocks, -1)
            names = [f"{node.name}_nbits_{part}" for part in ("weight", "scale", "zero")]
            added += [
                numpy_helper.from_array(packed, names[0]),
                numpy_helper.from_array(np.repeat(scale, blocks).astype(np.float32), names[1]),
                numpy_helper.from_array(np.full(n * blocks, 128, dtype=np.uint8), names[2]),
            ]
            replacements[id(node)] = [
                helper.make_node(
                    "MatMulNBits",
                    [node.input[0], *names],
                    list(node.output),
                    name=f"{node.name}_nbits",
                    domain="com.microsoft",
                    K=k,
                    N=n,
                    bits=8,
                    block_size=BLOCK_SIZE,
                    accuracy_level=ACCURACY_LEVEL,
                )
            ]
        elif node.op_type == "Gather" and (found := dequantized(node.input[0])):
            weight_name, scale_name = found
            if list(initializers[scale_name].dims)[1:] != [1]:
                continue  # only per-row scales can be gathered with their rows
            rows, base = node.input[1], node.name
            replacements[id(node)] = [
                helper.make_node("Gather", [weight_name, rows], [f"{base}_q"], axis=0),
                helper.make_node("Cast", [f"{base}_q"], [f"{base}_f"], to=TensorProto.FLOAT),
                helper.make_node("Gather", [scale_name, rows], [f"{base}_s"], axis=0),
                helper.make_node("Mul", [f"{base}_f", f"{base}_s"], list(node.output)),
            ]
    matmuls = sum(1 for nodes in replacements.values() if nodes[0].op_type == "MatMulNBits")
    if matmuls != weight_matmuls:
        raise ConversionError(f"found {matmuls} int8 weight MatMuls, expected {weight_matmuls}")

    nodes = [new for node in graph.node for new in replacements.get(id(node), [node])]
    graph.initializer.extend(added)
    drop_unused(graph, nodes)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return bytes(model.SerializeToString())


def drop_unused(graph: Any, nodes: list[Any]) -> None:
    """Set `graph`'s nodes to `nodes` less those feeding nothing, and drop unread initializers."""
    outputs = {out.name for out in graph.output}
    while True:
        read = {name for node in nodes for name in node.input} | outputs
        kept = [node for node in nodes if any(out in read for out in node.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    del graph.node[:]
    graph.node.extend(nodes)
    read = {name for node in nodes for name in node.input}
    initializers = [init for init in graph.initializer if init.name in read]
    del graph.initializer[:]
    graph.initializer.extend(initializers)


def cached_model(model_bytes: bytes, cache_dir: Path) -> Path | None:
    """The rewritten model's file in `cache_dir`, written on first use; None if it cannot be.

    A cached file whose sha256 is not CONVERTED_SHA256 is rewritten. None (the caller loads the
    shipped model, which needs more memory) when the folder is not writable, `onnx` is missing or
    the rewrite does not give the pinned bytes; each says why in a logged warning.
    """
    path = cache_dir / CONVERTED_NAME
    if is_cached(path, CONVERTED_SHA256):
        return path
    try:
        converted = convert(model_bytes)
    except (ImportError, ConversionError) as exc:
        log.warning("embedder runs its float path (more memory): %s", exc)
        return None
    if (actual := _sha256(converted)) != CONVERTED_SHA256:
        log.warning(
            "embedder runs its float path (more memory): the int8 rewrite has sha256 %s, "
            "expected %s (is onnx the version pyproject pins?)",
            actual,
            CONVERTED_SHA256,
        )
        return None
    if (problem := write_atomically(path, converted)) is not None:
        log.warning("embedder runs its float path (more memory): %s", problem)
        return None
    return path


def is_cached(path: Path, sha256: str) -> bool:
    """Whether `path` exists with this sha256 (streamed: a model is not read into memory)."""
    try:
        with path.open("rb") as cached:
            return hashlib.file_digest(cached, "sha256").hexdigest() == sha256
    except OSError:
        return False


def write_atomically(path: Path, data: bytes) -> str | None:
    """Write `data` to `path` atomically (readers see the old file or the new); None or why not."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        return f"cannot write {path} ({exc})"
    return None
