"""Fine-tune the shipped MiniLM as a cross-encoder and write `qa/data/cross_encoder.{json,bin}`.

A dev tool that needs PyTorch, which no project extra installs (the CPU wheel:
`pip install torch --index-url https://download.pytorch.org/whl/cpu`). Deterministic on one
machine: fixed seeds, two threads, no dropout. One epoch over bbc_train + bbc_train_extra
(single-turn questions: unanswerable ones, and answerable ones whose positive is among the
shipped ranker's top 8) takes ~20 minutes on two cores; the refusal threshold on the
cross-encoder's P(answerable) is then calibrated on bbc_dev like the reader's (`newsqa train`).

    python -m qa.tools.train_cross_encoder              # train, then write the files
    python -m qa.tools.train_cross_encoder --checkpoint ce.pt   # write them from a saved state
    python -m qa.tools.train_cross_encoder --cascade 0.7 2      # only recalibrate QA_RERANK=auto
    python -m qa.tools.train_cross_encoder --calibrate  # re-pin the built model, both thresholds

Training: the shipped weights dequantized into a small PyTorch BERT (same last hidden state as
onnxruntime within 3e-5), a linear head on [CLS], a listwise softmax over a learnt null score and
the top 8 per question (the target is the null score for an unanswerable question),
AdamW 3e-5 with 50 warm-up steps and linear decay, 4 questions per step. Export: each weight's
change as a rank-32 product (lossless on bbc_dev top-1), biases and layer norms as new values.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.cross_encoder_model import CONFIG_PATH, base_weights, blob_of, built, read_file
from qa.model_files import load_tokenizer, model_files
from qa.reader.rerank import pair_inputs

RANK = 32
TOP_TRAIN = 8  # candidates per question in the listwise loss
TOP_RERANK = 5  # shipped: how many of the ranker's best are rescored
RANKER_WEIGHT = 0.25  # shipped: score = cross-encoder + this × ranker logit (chosen on bbc_dev)
MAX_TOKENS = 128
# QA_RERANK=auto: the ranker's answer stands at P(answerable) >= CASCADE_GATE, else the
# cross-encoder rescores its CASCADE_TOP best and its null score decides refusal (both chosen on
# bbc_dev)
CASCADE_GATE = 0.7
CASCADE_TOP = 2
LEARNING_RATE = 3e-5
QUESTIONS_PER_STEP = 4
WARMUP_STEPS = 50


def _torch_bert(torch: Any, weights: dict[str, np.ndarray]) -> Any:
    """A 6-layer BERT over `weights` with a linear head on [CLS] (the only random init) and a
    learnt null score."""
    nn, functional = torch.nn, torch.nn.functional
    heads, width = 12, 384

    class Bert(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.p = nn.ParameterDict(
                {k.replace(".", "_"): nn.Parameter(torch.tensor(v)) for k, v in weights.items()}
            )
            self.head = nn.Linear(width, 1)
            self.null = nn.Parameter(torch.zeros(1))  # the score of "none of these answers"

        def g(self, name: str) -> Any:
            return self.p[name.replace(".", "_")]

        def norm(self, x: Any, name: str) -> Any:
            w, b = self.g(name + ".weight"), self.g(name + ".bias")
            return functional.layer_norm(x, (width,), w, b, 1e-12)

        def lin(self, x: Any, name: str) -> Any:
            return x @ self.g(name + ".weight") + self.g(name + ".bias")

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            rows, length = ids.shape
            x = (
                self.g("embeddings.word_embeddings.weight")[ids]
                + self.g("embeddings.token_type_embeddings.weight")[types]
                + self.g("embeddings.position_embeddings.weight")[:length][None]
            )
            x = self.norm(x, "embeddings.LayerNorm")
            bias = (1.0 - mask[:, None, None, :].float()) * -1e9
            for layer in range(6):
                p = f"encoder.layer.{layer}."
                q, k, v = (
                    self.lin(x, p + f"attention.self.{n}")
                    .view(rows, length, heads, width // heads)
                    .transpose(1, 2)
                    for n in ("query", "key", "value")
                )
                scores = q @ k.transpose(-1, -2) / math.sqrt(width // heads) + bias
                a = torch.softmax(scores, -1) @ v
                a = a.transpose(1, 2).reshape(rows, length, width)
                x = self.norm(
                    self.lin(a, p + "attention.output.dense") + x, p + "attention.output.LayerNorm"
                )
                h = functional.gelu(self.lin(x, p + "intermediate.dense"))
                x = self.norm(self.lin(h, p + "output.dense") + x, p + "output.LayerNorm")
            return self.head(x[:, 0]).squeeze(-1)

    return Bert()


def _pairs(torch: Any, tokenizer: Any, question: str, texts: list[str]) -> tuple[Any, Any, Any]:
    """The reranker's own pair inputs, as torch tensors."""
    return tuple(torch.from_numpy(a) for a in pair_inputs(tokenizer, question, texts))


def training_lists() -> list[tuple[str, list[str], list[float]]]:
    """(question, the shipped ranker's top 8 texts, their labels) for each training question
    whose positive is among them, and for each unanswerable one (all labels 0: the null score)."""
    from qa.engine import Engine
    from qa.reader.model import shipped_model
    from qa.settings import Settings
    from qa.tools.evaluation import SETS_DIR, load_set
    from qa.tools.training import read_examples

    engine = Engine(Settings.bbc())
    engine.ensure_ingested()
    ranker = shipped_model().ranker
    out = []
    for name in ("bbc_train.jsonl", "bbc_train_extra.jsonl"):
        items = [i for i in load_set(SETS_DIR / name) if not i.followup]
        for example in read_examples(engine, items, print):
            if not len(example.cands):
                continue
            top = np.argsort(-ranker.logit(example.rows), kind="stable")[:TOP_TRAIN]
            answerable = example.item.answerable
            labels = [float(example.labels[i]) if answerable else 0.0 for i in top]
            if answerable and not any(labels):
                continue  # its answer may be there unlabelled: not a clean "none of these"
            texts = [example.cands[i].text for i in top]
            out.append((example.item.question, texts, labels))
    return out


def train(torch: Any, weights: dict[str, np.ndarray], tokenizer: Any) -> Any:
    """One epoch of listwise fine-tuning; returns the model."""
    lists = training_lists()
    torch.manual_seed(0)
    random.seed(0)
    model = _torch_bert(torch, weights)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    total = len(lists) // QUESTIONS_PER_STEP
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda s: min(1.0, (s + 1) / WARMUP_STEPS) * max(0.0, 1 - s / max(1, total)),
    )
    order = list(range(len(lists)))
    random.shuffle(order)
    print(f"training on {len(lists)} questions, {total} steps", flush=True)
    started = time.time()
    model.train()
    for step, first in enumerate(range(0, len(order), QUESTIONS_PER_STEP), 1):
        loss = 0.0
        for i in order[first : first + QUESTIONS_PER_STEP]:
            question, texts, labels = lists[i]
            scores = torch.cat([model.null, model(*_pairs(torch, tokenizer, question, texts))])
            target = torch.tensor([0.0 if any(labels) else 1.0, *labels])
            target = target / target.sum()
            loss = loss - (target * torch.log_softmax(scores, -1)).sum() / QUESTIONS_PER_STEP
        optimiser.zero_grad()
        loss.backward()  # type: ignore[attr-defined]
        optimiser.step()
        schedule.step()
        if step % 50 == 0:
            print(f"step {step}/{total} loss {float(loss):.3f} {time.time() - started:.0f}s")
    return model


def export(state: dict[str, Any], weights: dict[str, np.ndarray], path: Path) -> str:
    """Write the deltas of `state` (a trained model's state dict) and the config; its sha256."""
    import torch

    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if not key.startswith("p.") or "embeddings" in key:
            continue  # the shipped embeddings are kept (lossless on bbc_dev)
        name = next(n for n in weights if n.replace(".", "_") == key[2:])
        tuned = value.detach().double()
        if tuned.ndim == 2:
            u, s, vh = torch.linalg.svd(tuned - torch.tensor(weights[name]).double(), False)
            arrays[name + ".u"] = (u[:, :RANK] * s[:RANK]).numpy()
            arrays[name + ".v"] = vh[:RANK].numpy()
        else:
            arrays[name] = tuned.numpy()
    blob, layout = blob_of(arrays)
    blob_path = path.with_suffix(".bin")
    blob_path.write_bytes(blob)
    digest = hashlib.sha256(blob).hexdigest()
    config = {
        "note": "written by `python -m qa.tools.train_cross_encoder` (see its docstring)",
        "blob": blob_path.name,
        "sha256": digest,
        "top": TOP_RERANK,
        "ranker_weight": RANKER_WEIGHT,
        "max_tokens": MAX_TOKENS,
        "rank": RANK,
        "head_weight": [round(float(v), 7) for v in state["head.weight"].reshape(-1)],
        "head_bias": round(float(state["head.bias"].reshape(-1)[0]), 7),
        "null_logit": round(float(state["null"].reshape(-1)[0]), 7),
        "arrays": layout,
    }
    _save(config, path)  # `recalibrate` then pins the built model and the thresholds
    return digest


def built_sha256() -> str:
    """The sha256 of the model the reranker builds from the shipped file."""
    return hashlib.sha256(built(model_files()[0].read_bytes(), read_file())).hexdigest()


def recalibrate() -> tuple[float, float]:
    """Re-pin the built model's sha256 in the shipped file, then recalibrate both refusal
    thresholds on bbc_dev (QA_RERANK=on, then auto with the shipped gate and top)."""
    config = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    config["converted_sha256"] = built_sha256()
    _save(config)
    return calibrate_refusal(), calibrate_cascade(CASCADE_GATE, CASCADE_TOP)


def _save(config: dict[str, Any], path: Path = CONFIG_PATH) -> None:
    path.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")


def _dev_threshold(rerank: str) -> float:
    """The refusal threshold that keeps bbc_dev's false refusals within budget in this mode."""
    from dataclasses import replace

    from qa.engine import Engine
    from qa.settings import Settings
    from qa.tools.evaluation import BBC_DEV, load_set
    from qa.tools.training import FALSE_REFUSAL_BUDGET, calibrate, dev_confidences

    engine = Engine(replace(Settings.bbc(), rerank=rerank), reader_mode="always-answer")
    return calibrate(dev_confidences(engine, load_set(BBC_DEV)), FALSE_REFUSAL_BUDGET)


def calibrate_refusal() -> float:
    """Calibrate the refusal threshold of the shipped cross-encoder file on bbc_dev; write it."""
    threshold = _dev_threshold("on")
    config = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    config["refusal_threshold"] = round(threshold, 6)
    _save(config)
    return threshold


def calibrate_cascade(gate: float, top: int) -> float:
    """Calibrate QA_RERANK=auto's refusal threshold on bbc_dev for this gate and top; write all
    three into the shipped file, which the engine reads (the ranker's answer stands at
    P(answerable) ≥ gate, else the cross-encoder rescores the top few and its null score
    decides)."""
    config = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    config["cascade"] = {"gate": gate, "top": top, "refusal_threshold": 0.0}
    _save(config)  # the engine reads gate and top from the file
    config["cascade"]["refusal_threshold"] = round(_dev_threshold("auto"), 6)
    _save(config)
    return float(config["cascade"]["refusal_threshold"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="export this saved state dict")
    parser.add_argument("--save", type=Path, help="also save the trained state dict here")
    parser.add_argument(
        "--cascade",
        nargs=2,
        metavar=("GATE", "TOP"),
        help=f"only calibrate QA_RERANK=auto (no PyTorch needed); shipped: "
        f"--cascade {CASCADE_GATE} {CASCADE_TOP}",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="only re-pin the built model and recalibrate both thresholds (no PyTorch needed)",
    )
    args = parser.parse_args(argv)
    if args.calibrate:
        refusal, cascade = recalibrate()
        print("refusal threshold", refusal, "cascade refusal threshold", cascade)
        return 0
    if args.cascade:
        gate, top = float(args.cascade[0]), int(args.cascade[1])
        print("cascade refusal threshold", calibrate_cascade(gate, top))
        return 0
    try:
        import torch
    except ImportError:
        print("this dev tool needs PyTorch (see its docstring)", file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    weights = base_weights(model_files()[0].read_bytes())
    if args.checkpoint:
        state = torch.load(args.checkpoint)
    else:
        tokenizer = load_tokenizer()  # as the reranker reads pairs: unpadded, truncated
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        state = train(torch, weights, tokenizer).state_dict()
        if args.save:
            torch.save(state, args.save)
    print("wrote", CONFIG_PATH.name, "sha256", export(state, weights, CONFIG_PATH))
    refusal, cascade = recalibrate()
    print("refusal threshold", refusal, "cascade refusal threshold", cascade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
