"""The offline embedder: all-MiniLM-L6-v2 (int8 ONNX, shipped on PyPI) run by onnxruntime.

Plain: no llama-index here, so the query path never imports it (`qa.llama_embedding` wraps
this class as a llama-index embedding model for code that builds llama-index pipelines).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.memory import release_free_memory
from qa.model_files import DIMENSIONS, MODEL_SHA256, check_sha256, load_tokenizer, model_files

# Tokens (rows × padded width) per onnxruntime call. Its arena keeps the largest call's buffers
# (attention is rows × 12 heads × width²): 32 rows of 256 tokens held ~850 MB. On 600 articles, a
# budget of 2,048 tokens peaked at 801 MB in 46 s, 1,024 at 628 MB in 38 s, 512 at 576 MB in 41 s.
# Short texts still go `batch_size` at a time.
TOKENS_PER_CALL = 1024


def _batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """`order` (ascending length) cut into calls of ≤ batch_size rows and ≤ TOKENS_PER_CALL."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        fits = (len(current) + 1) * lengths[i] <= TOKENS_PER_CALL  # i is the widest so far
        if current and (len(current) >= max(1, batch_size) or not fits):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class MiniLMEmbedder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings; batches are sorted by length.

    With `model_cache` (Settings.cache_dir) the session runs the int8 rewrite cached there
    (qa.int8_model: ~35 MB held instead of ~100 MB); without it, the shipped model's float path.
    """

    def __init__(
        self, threads: int = 2, batch_size: int = 32, model_cache: Path | None = None
    ) -> None:
        self.threads = threads
        self.embed_batch_size = batch_size
        import onnxruntime as ort

        model_path = model_files()[0]
        shipped = check_sha256(model_path, MODEL_SHA256)
        if model_cache is not None:
            from qa.int8_model import cached_model

            model_path = cached_model(shipped, model_cache) or model_path
        del shipped  # 23 MB not held while the session loads
        self.model_path = model_path  # the file the session runs
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Memory patterns pre-plan one block per input shape and the arena keeps each: with
        # lengths varying call to call they held ~75 MB more (4×256-token calls), at no speed gain.
        options.enable_mem_pattern = False
        # From the path, not the bytes just checked: onnxruntime copies a bytes model and keeps
        # the copy (~30 MB); the check and the load are a few milliseconds apart.
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        release_free_memory()  # graph optimisation's transient copies (~50 MB) back to the OS
        self._tokenizer = load_tokenizer()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of `texts` as a float32 array (n, 384), rows in input order."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for rows in _batches(order, [len(e.ids) for e in encodings], self.embed_batch_size):
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            hidden = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(norms, 1e-12)
        return out
