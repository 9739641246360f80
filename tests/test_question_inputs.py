"""Odd questions (empty, huge, escapes, markup, SQL, shell, other scripts, emoji, a number) give an
answer or one clear line, through `qa.ask()`, `qa.Chat` and the `newsqa ask` command line — and
leave the store as it was."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, copy_seeds

import qa
from qa import Answer, Chat
from qa.articles import read_article_text
from qa.engine import Engine
from qa.errors import UserError

NORMAL = "Who is the Prosecutor General of Azerbaijan?"
NORMAL_ANSWER = "Kamran Aliyev"

# (id, question): every one must give an Answer or a UserError, never another exception.
INPUTS: list[tuple[str, str]] = [
    ("empty", ""),
    ("spaces", "   "),
    ("whitespace", " \t\n\r\f\v "),
    ("zero-width", "\u200b\u200c\ufeff"),
    ("long-100k", "Who is the Prosecutor General? " * 3226),  # ~100,000 characters
    ("long-a-100k", "a" * 100_000),
    ("ansi-colour", "\x1b[31mWho\x1b[0m is the Prosecutor General of Azerbaijan?"),
    ("ansi-title", "\x1b]0;pwned\x07Who is the Prosecutor General of Azerbaijan?"),
    ("ansi-only", "\x1b[2J\x1b[H"),
    ("nul", "\x00"),
    ("nul-inside", "Who is the\x00 Prosecutor\x07 General\x08 of Azerbaijan?"),
    ("controls", "".join(chr(c) for c in range(1, 32)) + "Who is the Prosecutor General?"),
    ("bidi-override", "\u202eWho is the Prosecutor General of Azerbaijan?\u202c"),
    ("rich-markup", "[bold]x[/bold]"),
    ("rich-markup-question", "[bold red]Who[/] is the [link=http://x]Prosecutor General[/link]?"),
    ("rich-close-only", "[/]"),
    ("markdown", "# Who *is* the **Prosecutor General** of `Azerbaijan`?\n\n- [x](http://y)"),
    ("sql", "'; DROP TABLE embeddings; --"),
    ("sql-question", 'Who is the Prosecutor General"; DELETE FROM embeddings WHERE 1=1; --'),
    ("shell", "$(rm -rf /) `id`"),
    ("shell-pipe", "Who is the Prosecutor General? | cat /etc/passwd && echo $HOME"),
    ("french", "Qui est le procureur ?"),
    ("french-long", "Qui est le procureur général de l'Azerbaïdjan ?"),
    ("chinese", "阿塞拜疆的总检察长是谁？"),
    ("arabic", "من هو المدعي العام في أذربيجان؟"),
    ("emoji", "🙂🔥"),
    ("emoji-question", "Who is the 🧑‍⚖️ Prosecutor General of Azerbaijan? 👍🏽"),
    ("number", "2021"),
    ("negative-number", "-5"),
    ("punctuation", "?!?...,;:"),
    ("regex-like", ".*(a|b)+[^]\\d{3,}$"),
    ("format-like", "{0} %s %(x)d {__class__}"),
    ("lone-surrogate", "Who is the \ud800 Prosecutor General?"),
]
SHELL_MARKER = "created-by-shell-text"


def shell_text(folder: Path) -> str:
    """A question that, if any layer handed it to a shell, would create files in `folder`."""
    return (
        f"Who is $(touch {folder / SHELL_MARKER}-a) the `touch {folder / SHELL_MARKER}-b` "
        f"Prosecutor General; touch {folder / SHELL_MARKER}-c"
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("inputs")
    seeds = copy_seeds(base / "seeds")
    store = base / "store"
    engine = qa.get_engine(store=store, seeds=seeds)
    engine.ingest()
    return {"base": base, "seeds": seeds, "store": store, "engine": engine}


def store_state(world: dict[str, Any]) -> tuple[int, frozenset[str], frozenset[str]]:
    """Chunk count, chunk ids, and the table names of Chroma's sqlite file (read-only)."""
    engine: Engine = world["engine"]
    ids = frozenset(row_id for row_id, _, _ in engine.store.rows(include=["metadatas"]))
    db = sqlite3.connect(f"file:{world['store'] / 'chroma.sqlite3'}?mode=ro", uri=True)
    try:
        tables = frozenset(
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        )
    finally:
        db.close()
    return engine.store.count(), ids, tables


def check_user_error(exc: UserError) -> None:
    message = str(exc)
    assert message.strip(), "a UserError must say what is wrong"
    assert "\n" not in message and len(message) < 300, message
    assert "Traceback" not in message


def check_answer(answer: Answer, seeds: Path) -> None:
    """Found or not, the answer keeps the contract: markers resolve, quotes are verbatim."""
    assert isinstance(answer, Answer)
    assert answer.text.strip()
    assert "**" not in answer.text  # the text holds no markup (the question may)
    for bad in ("\x1b", "\x00", "\x07"):
        assert bad not in answer.text
        assert bad not in answer.question
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    if not answer.found:
        assert answer.sources == [] and answer.spans == [] and markers == []
        return
    assert answer.sources and set(markers) == {s.n for s in answer.sources}
    assert [s.n for s in answer.sources] == list(range(1, len(answer.sources) + 1))
    for s in answer.sources:
        assert read_article_text(seeds / s.file)[s.start : s.end] == s.quote
    for span in answer.spans:
        assert 1 <= span.n <= len(answer.sources)
        assert answer.text[span.at : span.to] == span.text


def ask_or_user_error(call: Any, question: str, seeds: Path) -> Answer | None:
    """`call(question)` must give a good Answer or raise a clear UserError (→ None)."""
    try:
        answer = call(question)
    except UserError as exc:
        check_user_error(exc)
        return None
    check_answer(answer, seeds)
    return answer


@pytest.mark.parametrize("question", [q for _, q in INPUTS], ids=[i for i, _ in INPUTS])
def test_api_ask_answers_or_says_what_is_wrong(world: dict[str, Any], question: str) -> None:
    seeds = world["seeds"]
    ask_or_user_error(lambda q: qa.ask(q, store=world["store"], seeds=seeds), question, seeds)


@pytest.mark.parametrize("question", [q for _, q in INPUTS], ids=[i for i, _ in INPUTS])
def test_chat_answers_or_says_what_is_wrong_then_goes_on(
    world: dict[str, Any], question: str
) -> None:
    seeds = world["seeds"]
    chat = Chat(engine=world["engine"])
    first = ask_or_user_error(chat.ask, question, seeds)
    # a follow-up after the odd turn (or after its error) still works in the same chat
    after = ask_or_user_error(chat.ask, NORMAL, seeds)
    assert after is not None and NORMAL_ANSWER in after.text
    assert chat.turns[-1] is after and (first is None or chat.turns[0] is first)


def test_empty_and_too_long_questions_are_named_as_such(world: dict[str, Any]) -> None:
    engine: Engine = world["engine"]
    for question in ("", "   ", "\x00", "\x1b[2J"):
        with pytest.raises(UserError, match="empty"):
            engine.ask(question)
    with pytest.raises(UserError, match="too long"):
        engine.ask("a" * 100_000)


def test_escapes_are_removed_not_answered_literally(world: dict[str, Any]) -> None:
    answer = world["engine"].ask("\x1b[31mWho\x1b[0m is the Prosecutor General of Azerbaijan?")
    assert answer.question == NORMAL
    assert NORMAL_ANSWER in answer.text


def test_markup_is_kept_as_plain_text(world: dict[str, Any]) -> None:
    answer = world["engine"].ask("[bold]x[/bold]")
    assert answer.question == "[bold]x[/bold]"  # not interpreted, not stripped
    check_answer(answer, world["seeds"])


def test_odd_questions_leave_the_store_unchanged_and_run_nothing(world: dict[str, Any]) -> None:
    engine: Engine = world["engine"]
    seeds, base = world["seeds"], world["base"]
    before = store_state(world)
    assert before[0] > 0 and "embeddings" in before[2]
    errors: list[str] = []
    chat = Chat(engine=engine)
    for name, question in [*INPUTS, ("shell-files", shell_text(base))]:
        for label, call in (("engine", engine.ask), ("chat", chat.ask)):
            try:
                ask_or_user_error(call, question, seeds)
            except Exception as exc:  # noqa: BLE001 - collected so every input is tried
                errors.append(f"{label} {name}: {type(exc).__name__}: {exc}")
    assert not list(base.glob(f"{SHELL_MARKER}*")), "shell text was executed"
    assert store_state(world) == before
    answer = engine.ask(NORMAL)
    assert answer.found and NORMAL_ANSWER in answer.text
    assert not errors, "\n".join(errors)


# ---- the command line -------------------------------------------------------------------------


def run_cli(*args: str | bytes) -> subprocess.CompletedProcess[str]:
    """`python -m qa ARGS…` in a subprocess (no shell); arguments may be raw bytes."""
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        errors="replace",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=300,
    )


def check_cli(out: subprocess.CompletedProcess[str], seeds: Path) -> dict[str, Any] | None:
    """Exit 0 with a good JSON answer, or exit ≠ 0 with one `newsqa: error: …` line."""
    assert "Traceback" not in out.stderr, out.stderr
    if out.returncode == 0:
        data = json.loads(out.stdout)
        assert data["text"].strip() and "\x1b" not in data["text"] and "**" not in data["text"]
        if not data["found"]:
            assert data["sources"] == [] and not re.search(r"\[\d+\]", data["text"])
        for s in data["sources"]:
            assert read_article_text(seeds / s["file"])[s["start"] : s["end"]] == s["quote"]
        return data
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsqa: error: "), out.stderr
    assert out.stdout == ""
    return None


# One of each kind the command line can carry (each run costs ~3 s of start-up). NUL cannot
# travel in an argv (the OS forbids it), nor a lone surrogate as text: the command line's version
# of that is raw non-UTF-8 bytes, which Python decodes to surrogates.
CLI_KINDS = (
    "empty", "whitespace", "long-100k", "ansi-colour", "controls", "rich-markup", "markdown",
    "sql", "shell", "french", "chinese", "arabic", "emoji-question", "number", "negative-number",
)  # fmt: skip
CLI_INPUTS: list[tuple[str, str | bytes]] = [(i, q) for i, q in INPUTS if i in CLI_KINDS] + [
    ("non-utf8-bytes", b"\xff\xfe Who is the Prosecutor General?")
]


@pytest.mark.parametrize("question", [q for _, q in CLI_INPUTS], ids=[i for i, _ in CLI_INPUTS])
def test_cli_ask_answers_or_prints_one_error_line(
    world: dict[str, Any], question: str | bytes
) -> None:
    seeds, store = world["seeds"], world["store"]
    out = run_cli("ask", question, "--json", "--seeds", str(seeds), "--store", str(store))
    check_cli(out, seeds)


def test_cli_plain_output_carries_no_escapes_from_the_question(world: dict[str, Any]) -> None:
    seeds, store = world["seeds"], world["store"]
    out = run_cli(
        "ask",
        "\x1b]0;pwned\x07\x1b[31mWho\x1b[0m is the Prosecutor General of Azerbaijan?",
        "--seeds",
        str(seeds),
        "--store",
        str(store),
    )
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
    assert NORMAL_ANSWER in out.stdout


def test_cli_odd_questions_leave_the_store_unchanged_and_run_nothing(
    world: dict[str, Any],
) -> None:
    seeds, store, base = world["seeds"], world["store"], world["base"]
    before = store_state(world)
    out = run_cli("ask", shell_text(base), "--json", "--seeds", str(seeds), "--store", str(store))
    check_cli(out, seeds)
    assert not list(base.glob(f"{SHELL_MARKER}*")), "shell text was executed"
    assert store_state(world) == before
    status = run_cli("status", "--json", "--seeds", str(seeds), "--store", str(store))
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["chunks"] == before[0]
    normal = check_cli(
        run_cli("ask", "--json", "--seeds", str(seeds), "--store", str(store), NORMAL), seeds
    )
    assert normal is not None and NORMAL_ANSWER in normal["text"]
