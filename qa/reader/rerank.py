"""Stage 4b, rerank: a cross-encoder rescores the ranker's best few candidates.

Takes the question and the ranker's ordered candidate texts with their logits; gives the new
order: over the top few, cross-encoder score + ranker_weight × logit, the rest unchanged; and,
for a model trained with a null option, P(one of those candidates answers): the softmax share
of the candidates against the learnt "none of these" score.
The cross-encoder reads question and sentence as one pair (the shipped MiniLM fine-tuned on
bbc_train + bbc_train_extra, see qa.cross_encoder_model); ~8–25 ms per pair of 40–128 tokens
on two cores.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.cross_encoder_model import CONFIG_PATH, CrossEncoderFile, built, fine_tuned, read_file
from qa.memory import release_free_memory
from qa.model_files import MODEL_SHA256, check_sha256, load_tokenizer, model_files

log = logging.getLogger(__name__)


def _model(deltas: CrossEncoderFile, cache_dir: Path | None) -> str | bytes:
    """The cross-encoder's model: its cached file, else its bytes (built, then cached)."""
    from qa.int8_model import ConversionError, is_cached, write_atomically

    path = None if cache_dir is None else cache_dir / f"cross-encoder-{deltas.fingerprint}.onnx"
    if path is not None and is_cached(path, deltas.converted_sha256):
        return str(path)
    shipped = check_sha256(model_files()[0], MODEL_SHA256)
    try:
        model = built(shipped, deltas)
    except ConversionError as exc:  # the float path: same scores, more memory
        log.warning("cross-encoder runs its float path (more memory): %s", exc)
        return fine_tuned(shipped, deltas)
    if (actual := hashlib.sha256(model).hexdigest()) != deltas.converted_sha256:
        log.warning(
            "cross-encoder model not cached: it has sha256 %s, expected %s (is onnx the version "
            "pyproject pins?)",
            actual,
            deltas.converted_sha256,
        )
    elif path is not None and (problem := write_atomically(path, model)) is not None:
        log.warning("cross-encoder model not cached: %s", problem)
    return model


def pair_inputs(
    tokenizer: Any, question: str, texts: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, attention mask and segment ids of (question, text) pairs, zero-padded."""
    encodings = tokenizer.encode_batch([(question, text) for text in texts])
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask, types = np.zeros_like(ids), np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = 1
        types[row, : len(e.ids)] = e.type_ids
    return ids, mask, types


@dataclass(frozen=True)
class Reranked:
    order: list[int]  # indices into the ranking, best first
    answerable: float | None  # P(a rescored candidate answers); None without a null score


class CrossEncoder:
    """Scores (question, sentence) pairs; `rerank` re-orders a ranking's top few. Its files are
    checked at once; the model is built on first use (or `load()`), so a cascade whose ranker
    is sure never pays for it."""

    def __init__(
        self, cache_dir: Path | None = None, threads: int = 2, config: Path = CONFIG_PATH
    ) -> None:
        self.file = read_file(config)
        self._cache_dir, self._threads = cache_dir, threads
        self._parts: tuple[Any, Any] | None = None  # (onnxruntime session, tokenizer)
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._parts is not None

    def load(self) -> tuple[Any, Any]:
        """The onnxruntime session and the pair tokenizer, built now if not yet."""
        with self._lock:
            if self._parts is None:
                self._parts = self._build()
            return self._parts

    def _build(self) -> tuple[Any, Any]:
        import onnxruntime as ort

        model = _model(self.file, self._cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, self._threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_mem_pattern = False  # pair widths vary call to call
        session = ort.InferenceSession(
            model, sess_options=options, providers=["CPUExecutionProvider"]
        )
        release_free_memory()
        tokenizer = load_tokenizer()
        tokenizer.enable_truncation(max_length=self.file.max_tokens)
        return session, tokenizer

    def scores(self, question: str, texts: list[str]) -> np.ndarray:
        """One score per text: how well it answers `question` (a logit, higher is better)."""
        if not texts:
            return np.zeros(0)
        session, tokenizer = self.load()
        ids, mask, types = pair_inputs(tokenizer, question, texts)
        hidden = session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
        )[0]
        return np.asarray(hidden[:, 0] @ self.file.head_weight + self.file.head_bias)

    def rerank(
        self, question: str, texts: list[str], logits: np.ndarray, top: int | None = None
    ) -> Reranked:
        """The new order of `texts` (ranked, best first, with their ranker `logits`), rescoring
        the first `top` (the file's own number when None)."""
        top = min(self.file.top if top is None else top, len(texts))
        if top < 1 or (top < 2 and self.file.null_logit is None):  # nothing to reorder or judge
            return Reranked(list(range(len(texts))), None)
        scores = self.scores(question, texts[:top])
        best = np.argsort(-(scores + self.file.ranker_weight * logits[:top]), kind="stable")
        return Reranked(
            [int(i) for i in best] + list(range(top, len(texts))), self.answerable(scores)
        )

    def answerable(self, scores: np.ndarray) -> float | None:
        """P(one of the scored candidates answers), from the model's null score if it has one."""
        if self.file.null_logit is None or not len(scores):
            return None
        logits = np.concatenate([[self.file.null_logit], scores])
        shares = np.exp(logits - logits.max())
        return float(1.0 - shares[0] / shares.sum())
