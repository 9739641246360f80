"""The trained reader: a logistic ranker and an answerability model, shipped as JSON.

`qa/data/reader_model.json` is written by `newsqa train` and hash-checked at load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import UserError

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "reader_model.json"


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(((x - mean) / scale) · coef + intercept)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logit(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.logit(x))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(float(self.intercept), 6),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Logistic:
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
        )


def fit_logistic(
    features: tuple[str, ...],
    x: np.ndarray,
    y: np.ndarray,
    *,
    l2: float = 1.0,
    sample_weight: np.ndarray | None = None,
    iterations: int = 50,
) -> Logistic:
    """L2-regularised logistic regression by Newton's method: deterministic, no dependencies."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.column_stack([(x - mean) / scale, np.ones(len(x))])
    w = np.zeros(z.shape[1])
    weights = np.ones(len(x)) if sample_weight is None else sample_weight
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (weights * (p - y)) + penalty * w
        hessian = (z * (weights * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return Logistic(features, mean, scale, w[:-1], float(w[-1]))


@dataclass(frozen=True)
class ReaderModel:
    """The candidate ranker and the answerability model with its calibrated threshold."""

    ranker: Logistic
    answerability: Logistic
    threshold: float  # answer when P(answerable) ≥ this
    info: dict[str, Any]

    def to_json(self) -> str:
        data = {
            "format": 2,
            "ranker": self.ranker.to_dict(),
            "answerability": self.answerability.to_dict(),
            "threshold": round(self.threshold, 6),
            "info": self.info,
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ReaderModel:
        data = json.loads(text)
        return cls(
            Logistic.from_dict(data["ranker"]),
            Logistic.from_dict(data["answerability"]),
            float(data["threshold"]),
            dict(data.get("info", {})),
        )


def expected_sha256(path: Path) -> str:
    """The sha256 recorded beside the model (`reader_model.sha256`, written by `newsqa train`)."""
    try:
        return path.with_suffix(".sha256").read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UserError(
            f"reader model checksum missing: {path.with_suffix('.sha256')} "
            f"({exc.strerror}); reinstall newsqa"
        ) from None


def load_model(path: Path | None = None) -> ReaderModel:
    """The shipped reader model; a missing or altered file is one clear error."""
    path = path or MODEL_PATH
    expected = expected_sha256(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(
            f"reader model missing: {path} ({exc.strerror}); run `newsqa train`"
        ) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise UserError(
            f"reader model {path} has sha256 {actual}, expected {expected}; "
            "reinstall newsqa or retrain with `newsqa train`"
        )
    try:
        return ReaderModel.from_json(data.decode("utf-8"))
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"reader model {path} is not valid: {exc}") from None


@lru_cache(maxsize=1)
def shipped_model() -> ReaderModel:
    return load_model()
