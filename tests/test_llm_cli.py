"""`--llm` on the command line, `QA_LLM`, spec errors and missing extras, and `newsqa eval --llm`,
against the fake LLM server and a real seeded store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import newsqa
from llm_fakes import fake_llm, free_port
from test_llm_answers import CLAIM, QUESTION

from qa import Chat, Engine, UserError
from qa.generative.spec import OLLAMA_URL, LLMSpec, parse_spec
from qa.settings import Settings
from qa.tools.evaluation import OUTCOMES, SETS_DIR, evaluate, format_reports, load_set


def _store(engine: Engine) -> list[str]:
    return ["--store", str(engine.settings.store_dir), "--seeds", str(engine.settings.seeds_dir)]


def test_ask_with_llm_prints_the_checked_answer_and_its_label(seeded: Engine) -> None:
    with fake_llm(reply=f"{CLAIM}. It rained in Baku on that day [4].") as fake:
        out = newsqa("ask", QUESTION, "--llm", f"ollama:tiny@{fake.ollama}", *_store(seeded))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"{CLAIM} [1]."
    assert lines[1] == "(answered by ollama:tiny, citations checked)"
    assert "Sources:" in lines and "is writing" not in out.stdout  # no draft off a terminal
    assert out.stderr.strip() == (
        "newsqa: warning: 1 sentence of ollama:tiny's answer was dropped: no passage supports it"
    )


def test_ask_json_with_llm_says_who_answered(seeded: Engine) -> None:
    with fake_llm(reply=f"{CLAIM} [1].") as fake:
        out = newsqa("ask", QUESTION, "--json", "--llm", f"openai:m@{fake.openai}", *_store(seeded))
    data = json.loads(out.stdout)
    assert data["answered_by"] == "openai:m" and data["text"] == f"{CLAIM} [1]."
    assert len(data["sources"]) == 1 and "Kamran Aliyev" in data["sources"][0]["quote"]


def test_qa_llm_in_the_environment_is_the_default(seeded: Engine) -> None:
    with fake_llm(reply=f"{CLAIM} [1].") as fake:
        out = newsqa("ask", QUESTION, *_store(seeded), env={"QA_LLM": f"ollama:m@{fake.ollama}"})
        off = newsqa("ask", QUESTION, "--llm", "off", *_store(seeded), env={"QA_LLM": "ollama:m"})
    assert out.stdout.startswith(f"{CLAIM} [1].\n(answered by ollama:m")
    assert len(fake.requests) == 1 and "answered by" not in off.stdout


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt4", "is not an LLM spec"),
        ("ollama:", "the model name is missing"),
        ("openai:gpt", "give the server, openai:MODEL@BASE_URL"),
        ("ollama:m@ftp://x", "is not an http(s) URL"),
        ("llamacpp:/nowhere/model.gguf", "no GGUF model file at /nowhere/model.gguf"),
    ],
)
def test_a_bad_llm_spec_is_one_clear_line(seeded: Engine, spec: str, message: str) -> None:
    out = newsqa("ask", QUESTION, "--llm", spec, *_store(seeded))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsqa: error: --llm") and message in lines[0]
    assert out.stdout == ""


def test_a_backend_that_is_down_is_one_warning_and_the_extractive_answer(seeded: Engine) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out = newsqa("ask", QUESTION, "--llm", f"ollama:m@{url}", *_store(seeded))
    plain = newsqa("ask", QUESTION, *_store(seeded))
    assert out.returncode == 0 and "Traceback" not in out.stderr
    assert out.stdout == plain.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"newsqa: warning: the LLM ollama:m at {url}")
    assert lines[0].endswith("; showing the extractive answer")


def test_a_missing_extra_is_a_clear_error(seeded: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_index.llms.ollama", None)  # as if not installed
    chat = Chat(engine=seeded, llm="ollama:not-installed-model")
    with pytest.raises(UserError, match=r"needs llama-index-llms-ollama; install the LLM extra"):
        chat.ask(QUESTION)


def test_specs_parse() -> None:
    assert parse_spec(None) is None and parse_spec("off") is None and parse_spec(" ") is None
    assert parse_spec("ollama:llama3.2:1b") == LLMSpec("ollama", "llama3.2:1b", OLLAMA_URL)
    assert parse_spec("ollama:m@http://h:1234/") == LLMSpec("ollama", "m", "http://h:1234")
    got = parse_spec("openai:org/model@https://u:pw@api.example:8443/v1")
    assert got == LLMSpec("openai", "org/model", "https://u:pw@api.example:8443/v1")
    assert got.where == "openai:org/model at https://api.example:8443"  # no password shown
    local = parse_spec("llamacpp:~/models/x.gguf")
    assert local is not None and local.label == "llamacpp:x.gguf"
    assert local.model == str(Path("~/models/x.gguf").expanduser())


def test_settings_read_the_llm_variables_and_hide_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_LLM", "ollama:m")
    monkeypatch.setenv("QA_LLM_API_KEY", "sk-hidden-42")
    monkeypatch.setenv("QA_LLM_TIMEOUT", "7.5")
    settings = Settings.from_env()
    assert (settings.llm, settings.llm_api_key, settings.llm_timeout) == (
        "ollama:m",
        "sk-hidden-42",
        7.5,
    )
    assert "sk-hidden-42" not in repr(settings)
    monkeypatch.setenv("QA_LLM_TIMEOUT", "soon")
    with pytest.raises(UserError, match="QA_LLM_TIMEOUT must be a positive number of seconds"):
        Settings.from_env()


def test_eval_with_llm_reports_the_same_metrics(seeded: Engine) -> None:
    items = load_set(SETS_DIR / "seed_dev.jsonl")[:4]
    with fake_llm(reply=f"{CLAIM}.") as fake:
        reports = evaluate(seeded.settings, items, ablations=False, llm=f"ollama:m@{fake.ollama}")
    assert [r.name for r in reports] == ["ollama:m, citations checked", "reader"]
    llm, reader = (r.metrics() for r in reports)
    assert llm.keys() == reader.keys() and llm["questions"] == reader["questions"] == 4
    assert fake.requests  # the LLM was asked
    assert llm["answered_by_llm"] > 0 and reader["answered_by_llm"] == 0
    outcomes = reports[0].llm_outcomes()
    assert list(outcomes) == list(OUTCOMES) and reports[1].llm_outcomes() == {}
    assert sum(n["questions"] for n in outcomes.values()) == 4
    assert outcomes["LLM kept"]["questions"] == sum(
        bool(r.answer.answered_by) and r.answer.found for r in reports[0].results
    )
    assert outcomes["LLM kept"]["questions"] > 0
    assert "LLM kept (" in format_reports("seed_dev", reports)


def test_eval_counts_answers_that_fell_back_to_extractive(seeded: Engine) -> None:
    """An LLM whose every sentence is unsupported: each question it saw falls back, and the
    fallbacks are as right as the reader's own answers."""
    items = load_set(SETS_DIR / "seed_dev.jsonl")[:4]
    with fake_llm(reply="Bananas are purple on Tuesdays [1].") as fake:
        llm, reader = evaluate(
            seeded.settings, items, ablations=False, llm=f"ollama:m@{fake.ollama}"
        )
    outcomes = llm.llm_outcomes()
    asked = len(fake.requests) - 1  # evaluate's untimed warm-up question asks it too
    assert asked > 0 and outcomes["fell back to extractive"]["questions"] == asked
    assert outcomes["LLM kept"]["questions"] == 0
    assert outcomes["refused before the LLM"]["questions"] == 4 - asked
    assert [r.answer.text for r in llm.results] == [r.answer.text for r in reader.results]
